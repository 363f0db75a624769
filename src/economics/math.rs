//! Checked integer arithmetic on wei. Every division rounds down and returns its remainder's
//! owner to the caller; every overflow is an error naming the input, never a panic.

use alloy::primitives::{U256, U512};

use super::EconomicsError;

/// `value * numerator / denominator`, rounded down, with a 512-bit intermediate so the product
/// never overflows; fails only when the quotient itself does not fit 256 bits or the
/// denominator is zero. `what` names the input for the error.
pub fn mul_div(value: U256, numerator: U256, denominator: U256, what: &str) -> Result<U256, EconomicsError> {
    if denominator.is_zero() {
        return Err(EconomicsError::DivisionByZero { what: what.to_owned() });
    }
    if let Some(product) = value.checked_mul(numerator) {
        return Ok(product / denominator);
    }
    let wide: U512 = value.widening_mul(numerator);
    let quotient = wide / U512::from(denominator);
    let limbs = quotient.as_limbs();
    if limbs[4..].iter().any(|limb| *limb != 0) {
        return Err(EconomicsError::Overflow { what: what.to_owned() });
    }
    Ok(U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]]))
}

/// `value * numerator / denominator`, rounded up (for amounts taken from a user, such as fees).
pub fn mul_div_up(
    value: U256,
    numerator: U256,
    denominator: U256,
    what: &str,
) -> Result<U256, EconomicsError> {
    let down = mul_div(value, numerator, denominator, what)?;
    let wide: U512 = value.widening_mul(numerator);
    if wide % U512::from(denominator) == U512::ZERO { Ok(down) } else { add(down, U256::from(1u64), what) }
}

/// `value * bps / 10_000`, rounded down.
pub fn apply_bps(value: U256, bps: u16, what: &str) -> Result<U256, EconomicsError> {
    mul_div(value, U256::from(bps), U256::from(super::precision::BPS), what)
}

/// `a + b`, failing with the input's name on overflow.
pub fn add(a: U256, b: U256, what: &str) -> Result<U256, EconomicsError> {
    a.checked_add(b).ok_or_else(|| EconomicsError::Overflow { what: what.to_owned() })
}

/// Sums amounts, failing with the input's name on overflow.
pub fn sum<I: IntoIterator<Item = U256>>(values: I, what: &str) -> Result<U256, EconomicsError> {
    values.into_iter().try_fold(U256::ZERO, |total, value| add(total, value, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_rounds_down_and_survives_wide_products() {
        assert_eq!(mul_div(U256::from(10u64), U256::from(1u64), U256::from(3u64), "x"), Ok(U256::from(3u64)));
        // (2^256 - 1) * 10 / 10 needs 260 bits in between.
        assert_eq!(mul_div(U256::MAX, U256::from(10u64), U256::from(10u64), "x"), Ok(U256::MAX));
        assert_eq!(
            mul_div(U256::MAX, U256::from(2u64), U256::from(1u64), "gross"),
            Err(EconomicsError::Overflow { what: "gross".to_owned() })
        );
        assert_eq!(
            mul_div(U256::from(1u64), U256::from(1u64), U256::ZERO, "weights"),
            Err(EconomicsError::DivisionByZero { what: "weights".to_owned() })
        );
    }

    #[test]
    fn mul_div_up_rounds_up_only_with_a_remainder() {
        assert_eq!(
            mul_div_up(U256::from(10u64), U256::from(1u64), U256::from(3u64), "x"),
            Ok(U256::from(4u64))
        );
        assert_eq!(
            mul_div_up(U256::from(9u64), U256::from(1u64), U256::from(3u64), "x"),
            Ok(U256::from(3u64))
        );
        assert_eq!(mul_div_up(U256::MAX, U256::from(3u64), U256::from(3u64), "x"), Ok(U256::MAX));
    }

    #[test]
    fn bps_of_an_amount() {
        assert_eq!(apply_bps(U256::from(10_001u64), 2_500, "fee"), Ok(U256::from(2_500u64)));
    }
}
