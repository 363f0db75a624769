//! The shared test vectors (tests/vectors/*.json, written by generate.py from exact integer
//! arithmetic): every vector is recomputed with `seqstake::economics` and must agree to the wei.
//! A vector of a kind this test does not know fails, so none is silently skipped.

use std::path::{Path, PathBuf};

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    sol_types::SolValue,
};
use seqstake::{
    amount::parse_wei,
    config::EmissionConfig,
    economics::{
        accumulator::{DelegationPool, pending_reward},
        downtime::jailed_for_downtime,
        finalization::{
            FinalizationError, MAX_BATCHES, PendingTicket, bunker_rate, plan_batches, queue_locked,
        },
        liquid::{PoolTotals, ticket_value},
        math,
        moves::{PoolStake, StakeMove, stake_moves},
        precision::RAY,
        report::{
            AllocationTarget, ChainRevenue, EpochEntry, FinalizationBatch, Header, LiquidActions, Report,
            SequencerReward, report_hash,
        },
        revenue::{RevenueShareTerms, partner_share, protocol_fee},
        schedule::{cumulative_to, emission_at},
        settlement::{
            ChainEpoch, EpochInputs, JailedRewards, SequencerEpoch, SettlementParams, Weighting, settle_epoch,
        },
        slashing::{SlashableHoldings, slash_split},
    },
};
use serde_json::Value;

struct Vector {
    file: PathBuf,
    kind: String,
    input: Value,
    expected: Value,
}

impl Vector {
    #[track_caller]
    fn wei(value: &Value, key: &str) -> U256 {
        let text = value[key].as_str().unwrap_or_else(|| panic!("`{key}` must be a decimal string"));
        parse_wei(text).unwrap_or_else(|e| panic!("`{key}`: {e}"))
    }

    #[track_caller]
    fn input(&self, key: &str) -> U256 {
        Self::wei(&self.input, key)
    }

    #[track_caller]
    fn expected(&self, key: &str) -> U256 {
        Self::wei(&self.expected, key)
    }

    #[track_caller]
    fn small<T: TryFrom<u128>>(value: &Value, key: &str) -> T {
        let n = u128::try_from(Self::wei(value, key)).expect("small number");
        T::try_from(n).unwrap_or_else(|_| panic!("`{key}` out of range"))
    }

    #[track_caller]
    fn list(value: &Value, key: &str) -> Vec<U256> {
        value[key]
            .as_array()
            .unwrap_or_else(|| panic!("`{key}` must be a list"))
            .iter()
            .map(|v| parse_wei(v.as_str().expect("decimal string")).expect("amount"))
            .collect()
    }
}

fn vectors() -> Vec<Vector> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/vectors")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let body: Value =
                serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
            assert_eq!(
                body["name"].as_str(),
                file.file_stem().and_then(|s| s.to_str()),
                "{}: name must match the file",
                file.display()
            );
            Vector {
                kind: body["kind"].as_str().expect("kind").to_owned(),
                input: body["input"].clone(),
                expected: body["expected"].clone(),
                file,
            }
        })
        .collect()
}

fn check(v: &Vector) {
    match v.kind.as_str() {
        "revenue_share" => {
            let terms = RevenueShareTerms {
                partner: Address::ZERO,
                a_bps: Vector::small(&v.input, "a_bps"),
                b_bps: Vector::small(&v.input, "b_bps"),
            };
            assert_eq!(partner_share(v.input("gross"), v.input("cost"), &terms, 0), Ok(v.expected("share")));
        }
        "protocol_fee" => {
            let fee = protocol_fee(v.input("revenue"), Vector::small(&v.input, "fee_bps"));
            assert_eq!(fee, Ok(v.expected("fee")));
        }
        "weight_split" => {
            let weights = Vector::list(&v.input, "weights");
            let total = weights.iter().fold(U256::ZERO, |a, b| a + b);
            let parts: Vec<U256> = weights
                .iter()
                .map(|w| math::mul_div(v.input("pool"), *w, total, "pool").expect("part"))
                .collect();
            assert_eq!(parts, Vector::list(&v.expected, "parts"));
            assert_eq!(v.input("pool") - parts.iter().fold(U256::ZERO, |a, b| a + b), v.expected("dust"));
        }
        "commission" => {
            let commission =
                math::apply_bps(v.input("reward"), Vector::small(&v.input, "commission_bps"), "reward")
                    .expect("ok");
            assert_eq!(
                (commission, v.input("reward") - commission),
                (v.expected("commission"), v.expected("rest"))
            );
        }
        "bond_pool_split" => {
            let stake = v.input("bond") + v.input("pool_tokens");
            let bond_part = math::mul_div(v.input("rest"), v.input("bond"), stake, "bond").expect("ok");
            assert_eq!(bond_part, v.expected("bond_part"));
            assert_eq!(v.input("rest") - bond_part, v.expected("pool_part"));
        }
        "accumulator" => {
            let mut pool = DelegationPool {
                tokens: U256::from(1u64),
                shares: v.input("shares"),
                acc: U256::ZERO,
                dust: v.input("dust_in"),
            };
            assert_eq!(pool.credit_reward(v.input("pool_part")), Ok(v.expected("credited")));
            assert_eq!((pool.acc, pool.dust), (v.expected("increment"), v.expected("dust_out")));
        }
        "pending_reward" => {
            let reward = pending_reward(v.input("shares"), v.input("acc_now"), v.input("acc_entry"));
            assert_eq!(reward, Ok(v.expected("reward")));
        }
        "deposit_shares" => {
            let pool = PoolTotals { shares: v.input("total_shares"), assets: v.input("total_assets") };
            assert_eq!(pool.shares_for_deposit(v.input("assets")), Ok(v.expected("shares")));
        }
        "ticket_value" => {
            let value =
                ticket_value(v.input("shares"), v.input("rate_request"), v.input("rate_finalization"));
            assert_eq!(value, Ok(v.expected("value")));
        }
        "emission_epoch" => check_emission(v),
        "settlement" => check_settlement(v),
        "report_hash" => check_report_hash(v),
        "downtime" => check_downtime(v),
        "stake_moves" => check_stake_moves(v),
        "finalization_batches" => check_finalization_batches(v),
        "slash_split" => {
            let holdings = SlashableHoldings {
                bond: v.input("bond"),
                pool: v.input("pool"),
                buckets: Vector::list(&v.input, "buckets"),
                tranches: Vector::list(&v.input, "tranches"),
            };
            let split = slash_split(
                Vector::small(&v.input, "fraction_bps"),
                v.input("stake_at_infraction"),
                &holdings,
            )
            .expect("split");
            assert_eq!(split.amount, v.expected("amount"));
            assert_eq!(
                (split.from_bond, split.from_pool),
                (v.expected("from_bond"), v.expected("from_pool"))
            );
            assert_eq!(split.from_buckets, Vector::list(&v.expected, "from_buckets"));
            assert_eq!(split.from_tranches, Vector::list(&v.expected, "from_tranches"));
            assert_eq!(split.shortfall, v.expected("shortfall"));
        }
        other => panic!("{}: no Rust check for kind `{other}`", v.file.display()),
    }
}

fn check_emission(v: &Vector) {
    let schedule = &v.input["schedule"];
    let wei = |key: &str| Vector::wei(schedule, key);
    let config = match schedule["kind"].as_str().expect("kind") {
        "constant" => EmissionConfig::Constant { per_epoch: wei("per_epoch") },
        "decaying" => EmissionConfig::Decaying {
            initial_per_epoch: wei("initial_per_epoch"),
            decay_ray: wei("decay_ray"),
        },
        "fixed_budget" => EmissionConfig::FixedBudget { per_epoch: wei("per_epoch"), budget: wei("budget") },
        other => panic!("unknown schedule `{other}`"),
    };
    let epochs: u64 = Vector::small(&v.input, "epochs");
    let emission: Vec<U256> = (0..epochs).map(|n| emission_at(&config, n).expect("emission")).collect();
    let cumulative: Vec<U256> = (0..epochs).map(|n| cumulative_to(&config, n).expect("cumulative")).collect();
    assert_eq!(emission, Vector::list(&v.expected, "emission"));
    assert_eq!(cumulative, Vector::list(&v.expected, "cumulative"));
}

fn check_settlement(v: &Vector) {
    let input = &v.input;
    let chains = input["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .map(|c| ChainEpoch {
            chain_id: Vector::small(c, "chain_id"),
            gross: Vector::wei(c, "gross"),
            cost: Vector::wei(c, "cost"),
            mev: Vector::wei(c, "mev"),
            share: c["partner"].as_str().map(|partner| RevenueShareTerms {
                partner: partner.parse().expect("address"),
                a_bps: Vector::small(c, "a_bps"),
                b_bps: Vector::small(c, "b_bps"),
            }),
        })
        .collect();
    let sequencers = input["sequencers"]
        .as_array()
        .expect("sequencers")
        .iter()
        .map(|s| SequencerEpoch {
            id: Vector::small(s, "id"),
            blocks: Vector::small(s, "blocks"),
            bond: Vector::wei(s, "bond"),
            pool_tokens: Vector::wei(s, "pool_tokens"),
            pool_shares: Vector::wei(s, "pool_shares"),
            commission_bps: Vector::small(s, "commission_bps"),
            jailed: s["jailed"].as_bool().expect("jailed"),
            acc_before: U256::ZERO,
            dust_before: Vector::wei(s, "dust_before"),
        })
        .collect();
    let weighting = match input["weighting"].as_str().expect("weighting") {
        "blocks" => Weighting::Blocks,
        "stake" => Weighting::Stake,
        "blend" => Weighting::Blend { blocks_bps: Vector::small(input, "blend_blocks_bps") },
        other => panic!("{}: unknown weighting {other}", v.file.display()),
    };
    let jailed_rewards = match input["jailed_rewards"].as_str().expect("jailed_rewards") {
        "to_treasury" => JailedRewards::ToTreasury,
        "redistribute" => JailedRewards::Redistribute,
        other => panic!("{}: unknown jailed_rewards {other}", v.file.display()),
    };
    let params = SettlementParams {
        protocol_fee_bps: Vector::small(input, "protocol_fee_bps"),
        weighting,
        jailed_rewards,
    };
    let inputs = EpochInputs {
        epoch: 0,
        chains,
        emission: v.input("emission"),
        dust_in: v.input("dust_in"),
        sequencers,
    };
    let settlement = settle_epoch(&inputs, &params).expect("settles");
    let e = &v.expected;
    assert_eq!(settlement.revenue_after_shares, v.expected("revenue_after_shares"));
    assert_eq!(settlement.protocol_fee, v.expected("protocol_fee"));
    assert_eq!(settlement.reward_pool, v.expected("reward_pool"));
    assert_eq!(settlement.dust_out, v.expected("dust_out"));
    for (chain, want) in settlement.chains.iter().zip(e["chains"].as_array().expect("chains")) {
        assert_eq!(chain.share, Vector::wei(want, "share"), "chain {}", chain.chain_id);
    }
    let wanted = e["sequencers"].as_array().expect("sequencers");
    assert_eq!(settlement.sequencers.len(), wanted.len(), "{}: one outcome per sequencer", v.file.display());
    for (s, want) in settlement.sequencers.iter().zip(wanted) {
        let got = [
            s.reward,
            s.to_treasury,
            s.commission,
            s.bond_reward,
            s.pool_reward,
            s.acc_increment,
            s.pool_credited,
            s.dust_after,
        ];
        let keys = [
            "reward",
            "to_treasury",
            "commission",
            "bond_reward",
            "pool_reward",
            "acc_increment",
            "pool_credited",
            "dust_after",
        ];
        let wanted: Vec<U256> = keys.iter().map(|k| Vector::wei(want, k)).collect();
        assert_eq!(got.to_vec(), wanted, "sequencer {}", s.id);
    }
    assert_eq!(settlement.total_in(), settlement.total_out());
}

fn items<'a>(value: &'a Value, key: &str) -> &'a Vec<Value> {
    value[key].as_array().unwrap_or_else(|| panic!("`{key}` must be a list"))
}

fn report_from_json(r: &Value) -> Report {
    let h = &r["header"];
    let epochs = items(r, "epochs")
        .iter()
        .map(|e| EpochEntry {
            epoch: Vector::small(e, "epoch"),
            chains: items(e, "chains")
                .iter()
                .map(|c| ChainRevenue {
                    chainId: Vector::small(c, "chain_id"),
                    gross: Vector::wei(c, "gross"),
                    cost: Vector::wei(c, "cost"),
                    mev: Vector::wei(c, "mev"),
                    evidenceHash: c["evidence_hash"].as_str().expect("hash").parse::<B256>().expect("hash"),
                    partner: c["partner"].as_str().expect("partner").parse::<Address>().expect("address"),
                    aBps: Vector::small(c, "a_bps"),
                    bBps: Vector::small(c, "b_bps"),
                    share: Vector::wei(c, "share"),
                })
                .collect(),
            protocolFee: Vector::wei(e, "protocol_fee"),
            emission: Vector::wei(e, "emission"),
            totalSupply: Vector::wei(e, "total_supply"),
            sequencers: items(e, "sequencers")
                .iter()
                .map(|s| SequencerReward {
                    id: Vector::small(s, "id"),
                    blocks: Vector::small(s, "blocks"),
                    missedBlocks: Vector::small(s, "missed_blocks"),
                    reward: Vector::wei(s, "reward"),
                    accAfter: Vector::wei(s, "acc_after"),
                    jailed: s["jailed"].as_bool().expect("jailed is a boolean"),
                })
                .collect(),
            dustIn: Vector::wei(e, "dust_in"),
            dustOut: Vector::wei(e, "dust_out"),
        })
        .collect();
    let l = &r["liquid"];
    Report {
        header: Header {
            firstEpoch: Vector::small(h, "first_epoch"),
            lastEpoch: Vector::small(h, "last_epoch"),
            refBlock: Vector::small(h, "ref_block"),
            chainId: Vector::small(h, "chain_id"),
        },
        epochs,
        activeSet: Vector::list(r, "active_set")
            .into_iter()
            .map(|id| u32::try_from(id).expect("active set ids are u32"))
            .collect(),
        liquid: LiquidActions {
            poolRewards: Vector::wei(l, "pool_rewards"),
            allocation: items(l, "allocation")
                .iter()
                .map(|a| AllocationTarget {
                    sequencerId: Vector::small(a, "sequencer_id"),
                    target: Vector::wei(a, "target"),
                })
                .collect(),
            batches: items(l, "batches")
                .iter()
                .map(|b| FinalizationBatch {
                    lastTicketId: Vector::wei(b, "last_ticket_id"),
                    shareRate: Vector::wei(b, "share_rate"),
                })
                .collect(),
        },
    }
}

fn check_downtime(v: &Vector) {
    let epochs: Vec<EpochEntry> = items(&v.input, "epochs")
        .iter()
        .map(|epoch| EpochEntry {
            sequencers: epoch
                .as_array()
                .expect("an epoch is a list of sequencers")
                .iter()
                .map(|s| SequencerReward {
                    id: Vector::small(s, "id"),
                    blocks: Vector::small(s, "blocks"),
                    missedBlocks: Vector::small(s, "missed"),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    let jailed: Vec<u32> = Vector::list(&v.expected, "jailed")
        .into_iter()
        .map(|id| u32::try_from(id).expect("ids are u32"))
        .collect();
    assert_eq!(jailed_for_downtime(&epochs, Vector::small(&v.input, "max_missed_bps")), jailed);
    assert!(!jailed.is_empty(), "the vector jails someone");
}

fn check_stake_moves(v: &Vector) {
    let pools: Vec<PoolStake> = items(&v.input, "pools")
        .iter()
        .map(|p| PoolStake {
            id: Vector::small(p, "id"),
            delegated: Vector::wei(p, "delegated"),
            redelegated_in: Vector::wei(p, "redelegated_in"),
        })
        .collect();
    let targets: Vec<AllocationTarget> = items(&v.input, "targets")
        .iter()
        .map(|t| AllocationTarget {
            sequencerId: Vector::small(t, "sequencer_id"),
            target: Vector::wei(t, "target"),
        })
        .collect();
    let expected: Vec<StakeMove> = items(&v.expected, "moves")
        .iter()
        .map(|m| {
            let (from, to, amount) =
                (Vector::small(m, "from"), Vector::small(m, "to"), Vector::wei(m, "amount"));
            match m["kind"].as_str().expect("kind") {
                "redelegate" => StakeMove::Redelegate { from, to, amount },
                "delegate" => StakeMove::Delegate { to, amount },
                "undelegate" => StakeMove::Undelegate { from, amount },
                other => panic!("unknown move kind {other}"),
            }
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(stake_moves(&pools, &targets), Ok(expected));
}

fn check_finalization_batches(v: &Vector) {
    let rates = items(&v.input, "rates");
    assert!(rates.len() >= 2, "bunker rates with and without a pending loss");
    for (r, want) in rates.iter().zip(Vector::list(&v.expected, "rates")) {
        let rate =
            bunker_rate(Vector::wei(r, "pooled"), Vector::wei(r, "pending_loss"), Vector::wei(r, "supply"));
        assert_eq!(rate, Ok(want), "rate {}", r["label"]);
    }
    let plans = items(&v.input, "plans");
    let wanted = items(&v.expected, "plans");
    assert_eq!(plans.len(), wanted.len());
    for (p, want) in plans.iter().zip(wanted) {
        let label = p["label"].as_str().expect("label");
        let token = &p["token"];
        let rate = Vector::wei(p, "rate");
        let from_token = bunker_rate(
            Vector::wei(token, "pooled"),
            Vector::wei(token, "pending_loss"),
            Vector::wei(token, "supply"),
        );
        assert_eq!(from_token, Ok(rate), "{label}: the token's finalization rate");
        let tickets: Vec<PendingTicket> = items(p, "tickets")
            .iter()
            .map(|t| PendingTicket {
                id: Vector::small(t, "id"),
                shares: Vector::wei(t, "shares"),
                value: Vector::wei(t, "value"),
                rate_at_request: Vector::wei(t, "rate_at_request"),
                run: Vector::small(t, "run"),
            })
            .collect();
        let last_finalized: u64 = Vector::small(p, "last_finalized_id");
        assert_eq!(tickets[0].id, last_finalized + 1, "{label}: pending from lastFinalizedId + 1");
        let budget = Vector::wei(p, "budget");
        let max_batches: usize = Vector::small(p, "max_batches");
        assert_eq!(max_batches, MAX_BATCHES, "{label}: the report contract's cap");
        let plan = plan_batches(&tickets, rate, budget, max_batches).expect(label);
        let batches: Vec<FinalizationBatch> = items(want, "batches")
            .iter()
            .map(|b| FinalizationBatch {
                lastTicketId: Vector::wei(b, "last_ticket_id"),
                shareRate: Vector::wei(b, "share_rate"),
            })
            .collect();
        assert_eq!(plan.batches, batches, "{label}: batches");
        assert_eq!(plan.values, Vector::list(want, "values"), "{label}: values");
        assert_eq!(
            (plan.locked, plan.shares),
            (Vector::wei(want, "locked"), Vector::wei(want, "shares")),
            "{label}"
        );
        if !batches.is_empty() {
            assert_eq!(
                queue_locked(&tickets, rate, &plan.ends()),
                Ok(plan.locked),
                "{label}: the queue locks it"
            );
        }
        for refused in items(want, "refused") {
            let ends: Vec<u64> = Vector::list(refused, "ends")
                .into_iter()
                .map(|id| u64::try_from(id).expect("ticket ids are u64"))
                .collect();
            let locked = queue_locked(&tickets, rate, &ends);
            match refused["error"].as_str().expect("error") {
                "MixedBatch" => assert_eq!(
                    locked,
                    Err(FinalizationError::MixedBatch { index: Vector::small(refused, "index") }),
                    "{label}: {ends:?}"
                ),
                "InsufficientBuffer" => {
                    assert_eq!(locked, Ok(Vector::wei(refused, "locked")), "{label}: {ends:?}");
                    assert!(Vector::wei(refused, "locked") > budget, "{label}: {ends:?} is over the budget");
                }
                other => panic!("{label}: unknown refusal {other}"),
            }
        }
    }
}

fn check_report_hash(v: &Vector) {
    let report = report_from_json(&v.input["report"]);
    let encoded: Bytes = v.expected["encoded"].as_str().expect("encoded").parse().expect("hex");
    assert_eq!(Bytes::from(report.abi_encode()), encoded, "abi.encode(report) differs");
    let contract: Address = v.input["report_contract"].as_str().expect("address").parse().expect("address");
    let hash: B256 = v.expected["hash"].as_str().expect("hash").parse().expect("hash");
    assert_eq!(report_hash(&report, Vector::small(&v.input, "chain_id"), contract), hash);
}

#[test]
fn rust_agrees_with_every_shared_vector() {
    let all = vectors();
    assert!(all.len() >= 15, "expected the shared vectors, found {}", all.len());
    for vector in &all {
        check(vector);
    }
    // RAY is the one precision constant both sides use.
    assert_eq!(RAY, U256::from(10u64).pow(U256::from(27u64)));
}
