//! Amounts of wei in SQL. PostgreSQL stores them as `NUMERIC(78,0)`, bound as text and cast
//! (`$1::numeric`), read back as `col::text`; SQLite stores them as 78-digit zero-padded text,
//! so that text order is numeric order. Sums are done in Rust with `U256`, never in SQL.
//! In PostgreSQL, alias the text (`amount::text AS amount_text`): an alias named like the
//! column would make `ORDER BY amount` sort the text, not the number.

use alloy::primitives::U256;

use crate::amount::{AmountError, parse_wei};

/// Digits of the largest `U256` (2^256 - 1 has 78 decimal digits): the width of every stored amount.
pub const AMOUNT_DIGITS: usize = 78;

/// The text to bind for a PostgreSQL `NUMERIC(78,0)` parameter written as `$n::numeric`.
pub fn to_pg_numeric(amount: U256) -> String {
    amount.to_string()
}

/// Reads a PostgreSQL `NUMERIC(78,0)` column selected as `col::text`.
pub fn from_pg_numeric(text: &str) -> Result<U256, AmountError> {
    parse_wei(text)
}

/// The zero-padded 78-digit text stored in SQLite; its lexicographic order is numeric order.
pub fn to_sqlite_text(amount: U256) -> String {
    format!("{:0>width$}", amount.to_string(), width = AMOUNT_DIGITS)
}

/// Reads an amount stored by [`to_sqlite_text`]; refuses text of any other width.
pub fn from_sqlite_text(text: &str) -> Result<U256, AmountError> {
    if text.len() != AMOUNT_DIGITS {
        return Err(AmountError::NotDecimal(text.to_owned()));
    }
    parse_wei(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_is_fixed_width_and_round_trips() {
        for amount in [U256::ZERO, U256::from(1u64), U256::from(10u64).pow(U256::from(18u64)), U256::MAX] {
            let text = to_sqlite_text(amount);
            assert_eq!(text.len(), AMOUNT_DIGITS);
            assert_eq!(from_sqlite_text(&text), Ok(amount));
        }
        assert_eq!(to_sqlite_text(U256::from(42u64)), format!("{}42", "0".repeat(76)));
    }

    #[test]
    fn sqlite_text_order_is_numeric_order() {
        let mut amounts =
            vec![U256::MAX, U256::from(9u64), U256::from(10u64), U256::ZERO, U256::from(1_000u64)];
        let mut texts: Vec<_> = amounts.iter().copied().map(to_sqlite_text).collect();
        amounts.sort();
        texts.sort();
        let decoded: Vec<_> = texts.iter().map(|t| from_sqlite_text(t).expect("decodes")).collect();
        assert_eq!(decoded, amounts);
    }

    #[test]
    fn sqlite_text_of_the_wrong_width_is_refused() {
        assert_eq!(from_sqlite_text("42"), Err(AmountError::NotDecimal("42".to_owned())));
    }
}
