//! The precision constants shared with the contracts: change one only together with
//! `contracts/`, `tests/vectors` and `docs/`.

use alloy::primitives::U256;

/// `1e27`: the one precision constant for share rates and reward-per-share accumulators.
pub const RAY: U256 = U256::from_limbs([11_515_845_246_265_065_472, 54_210_108, 0, 0]);
/// Basis points in 100%.
pub const BPS: u64 = 10_000;
/// Virtual shares of every share pool (against the donation attack).
pub const VIRTUAL_SHARES: U256 = U256::from_limbs([1_000, 0, 0, 0]);
/// Virtual assets of every share pool.
pub const VIRTUAL_ASSETS: U256 = U256::from_limbs([1, 0, 0, 0]);
/// A year of 365 days, the basis of every annualized figure (APR, inflation).
pub const SECONDS_PER_YEAR: u64 = 365 * 24 * 60 * 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ray_is_ten_to_the_27() {
        assert_eq!(RAY, U256::from(10u64).pow(U256::from(27u64)));
        assert_eq!(VIRTUAL_SHARES, U256::from(1_000u64));
        assert_eq!(VIRTUAL_ASSETS, U256::from(1u64));
    }
}
