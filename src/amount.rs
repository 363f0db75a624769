//! Amounts of the native token as they cross a text boundary (TOML, JSON, SQL text): always
//! decimal strings of wei, parsed strictly, because a float or a hex string in a money field is
//! a mistake we want reported, not guessed at.

use alloy::primitives::U256;
use serde::{Deserialize, Deserializer, Serializer};

/// Why a decimal wei string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The string was empty.
    #[error("an amount of wei must not be empty")]
    Empty,
    /// A character other than a digit or a `_` separator.
    #[error("`{0}` is not a decimal amount of wei (digits only, `_` allowed between digits)")]
    NotDecimal(String),
    /// More than 2^256 - 1.
    #[error("`{0}` does not fit in 256 bits")]
    Overflow(String),
}

/// Parses a decimal amount of wei: digits with optional `_` separators between them
/// (`"1_000_000_000_000_000_000"`), no sign, no exponent, no decimal point, at most 2^256 - 1.
pub fn parse_wei(text: &str) -> Result<U256, AmountError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AmountError::Empty);
    }
    let bytes = text.as_bytes();
    let separators_ok = bytes.first() != Some(&b'_') && bytes.last() != Some(&b'_') && !text.contains("__");
    if !separators_ok || !bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_') {
        return Err(AmountError::NotDecimal(text.to_owned()));
    }
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    U256::from_str_radix(&digits, 10).map_err(|_| AmountError::Overflow(text.to_owned()))
}

/// Serde adapter: a `U256` written and read as a decimal string of wei.
pub mod decimal_wei {
    use super::{Deserialize, Deserializer, Serializer, U256, parse_wei};

    /// Writes the amount as a decimal string.
    pub fn serialize<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    /// Reads a decimal string of wei (see [`parse_wei`]).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<U256, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_wei(&text).map_err(serde::de::Error::custom)
    }

    /// The same for an optional amount.
    pub mod option {
        use super::{Deserialize, Deserializer, Serializer, U256, parse_wei};

        /// Writes the amount (when present) as a decimal string.
        pub fn serialize<S: Serializer>(value: &Option<U256>, serializer: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(value) => serializer.serialize_some(&value.to_string()),
                None => serializer.serialize_none(),
            }
        }

        /// Reads an optional decimal string of wei.
        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<U256>, D::Error> {
            Option::<String>::deserialize(deserializer)?
                .map(|text| parse_wei(&text).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_separated_decimals() {
        assert_eq!(parse_wei("0"), Ok(U256::ZERO));
        assert_eq!(parse_wei("1_000_000_000_000_000_000"), Ok(U256::from(10u64).pow(U256::from(18u64))));
        assert_eq!(parse_wei(&U256::MAX.to_string()), Ok(U256::MAX));
    }

    #[test]
    fn refuses_signs_floats_hex_and_stray_separators() {
        for bad in ["-1", "1.5", "1e18", "0x10", "_1", "1_", "1__0", "ten"] {
            assert_eq!(parse_wei(bad), Err(AmountError::NotDecimal(bad.to_owned())), "{bad}");
        }
        assert_eq!(parse_wei("  "), Err(AmountError::Empty));
    }

    #[test]
    fn refuses_amounts_above_256_bits() {
        let too_big = format!("{}0", U256::MAX);
        assert_eq!(parse_wei(&too_big), Err(AmountError::Overflow(too_big.clone())));
    }
}
