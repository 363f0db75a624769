//! The one error type of the economics engine: bad input, never a panic.

/// Why an economics computation refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EconomicsError {
    /// An intermediate or result did not fit 256 bits; `what` names the input that caused it.
    #[error("{what}: the amount overflows 256 bits")]
    Overflow {
        /// The input, e.g. `chain 10 gross`.
        what: String,
    },
    /// A division by zero that valid input cannot produce.
    #[error("{what}: division by zero")]
    DivisionByZero {
        /// The input, e.g. `sequencer 3 pool shares`.
        what: String,
    },
    /// An input outside its allowed range.
    #[error("{what}: {problem}")]
    InvalidInput {
        /// The input.
        what: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl EconomicsError {
    /// Prefixes the named input with its context, e.g. `stake` -> `sequencer 3 stake`. Hot
    /// paths name inputs with static strings and add the context only when an error occurs.
    #[must_use]
    pub fn within(self, context: impl std::fmt::Display) -> Self {
        match self {
            Self::Overflow { what } => Self::Overflow { what: format!("{context} {what}") },
            Self::DivisionByZero { what } => Self::DivisionByZero { what: format!("{context} {what}") },
            Self::InvalidInput { what, problem } => {
                Self::InvalidInput { what: format!("{context} {what}"), problem }
            }
        }
    }
}
