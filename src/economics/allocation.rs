//! Allocation of the liquid pool's stake across sequencers (placeholder: being written).
