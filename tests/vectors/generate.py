#!/usr/bin/env python3
"""Writes the shared test vectors in this folder.

The expected values are computed here, in Python's exact integers, independently of both the
Rust and the Solidity implementations, which must each agree with them to the wei. Every
division rounds down, as DESIGN.md's rounding table says. Run it after changing a vector's
inputs: python3 tests/vectors/generate.py
"""
import json
import os

RAY = 10**27
BPS = 10_000
V_S = 10**3
V_A = 1
HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, kind, inputs, expected):
    def text(value):
        if isinstance(value, dict):
            return {k: text(v) for k, v in value.items()}
        if isinstance(value, list):
            return [text(v) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            return str(value)
        return value

    body = {"name": name, "kind": kind, "input": text(inputs), "expected": text(expected)}
    with open(os.path.join(HERE, f"{name}.json"), "w") as f:
        json.dump(body, f, indent=2)
        f.write("\n")


def share(gross, cost, a, b):
    return max(gross * a, max(gross - cost, 0) * b) // BPS


# Partner revenue share: max(gross*a, max(gross-cost,0)*b) / 10_000.
write("revenue_share_op_superchain", "revenue_share",
      {"gross": 100 * 10**18, "cost": 30 * 10**18, "a_bps": 250, "b_bps": 1500},
      {"share": share(100 * 10**18, 30 * 10**18, 250, 1500)})
write("revenue_share_cost_above_gross", "revenue_share",
      {"gross": 100 * 10**18, "cost": 130 * 10**18, "a_bps": 250, "b_bps": 1500},
      {"share": share(100 * 10**18, 130 * 10**18, 250, 1500)})
write("revenue_share_rounding", "revenue_share",
      {"gross": 333, "cost": 300, "a_bps": 250, "b_bps": 1500},
      {"share": share(333, 300, 250, 1500)})

# Protocol fee on revenue after partner shares.
rev = 140_501
write("protocol_fee", "protocol_fee", {"revenue": rev, "fee_bps": 1000}, {"fee": rev * 1000 // BPS})

# Split across sequencers by weight; the remainder is settlement dust.
pool, weights = 1_126_459, [400, 50, 100]
parts = [pool * w // sum(weights) for w in weights]
write("weight_split", "weight_split", {"pool": pool, "weights": weights},
      {"parts": parts, "dust": pool - sum(parts)})

# Commission: R * c / 10_000, the remainder stays with the staker side.
write("commission", "commission", {"reward": 375_486, "commission_bps": 1000},
      {"commission": 375_486 * 1000 // BPS, "rest": 375_486 - 375_486 * 1000 // BPS})

# Bond / pool split: rest * bond / (bond + pool_tokens); the remainder is the pool's part.
rest, bond, pool_tokens = 337_938, 100 * 10**18, 300 * 10**18 + 7
bond_part = rest * bond // (bond + pool_tokens)
write("bond_pool_split", "bond_pool_split", {"rest": rest, "bond": bond, "pool_tokens": pool_tokens},
      {"bond_part": bond_part, "pool_part": rest - bond_part})

# Accumulator: acc += (pool_part + dust) * RAY / shares. What the increment lets the shares
# claim, inc * shares / RAY, is credited rounded up (the pool's liability); the whole wei left
# are that sequencer's dust. Rounded down, a fraction would be both claimable (holders who
# settle over several epochs add the fractions up) and carried as dust: one wei per epoch
# owed twice.
pool_part, dust_in, shares = 253_454, 5, 300_000
inc = (pool_part + dust_in) * RAY // shares
credited = -(-inc * shares // RAY)  # rounded up: the pool's liability
write("accumulator", "accumulator", {"pool_part": pool_part, "dust_in": dust_in, "shares": shares},
      {"increment": inc, "credited": credited, "dust_out": pool_part + dust_in - credited})

# Pending reward: shares * (acc_now - acc_entry) / RAY.
write("pending_reward", "pending_reward",
      {"shares": 1_234_567, "acc_now": 3 * RAY + 123_456_789, "acc_entry": RAY // 3},
      {"reward": 1_234_567 * (3 * RAY + 123_456_789 - RAY // 3) // RAY})

# Shares for a deposit with the virtual offset.
assets, total_shares, total_assets = 3 * 10**18, 10 * 10**21 + 17, 9 * 10**18 + 5
write("deposit_shares", "deposit_shares",
      {"assets": assets, "total_shares": total_shares, "total_assets": total_assets},
      {"shares": assets * (total_shares + V_S) // (total_assets + V_A)})

# Ticket value: shares * min(rate_req, rate_fin) / RAY.
t_shares, rate_req, rate_fin = 2_000 * 10**21 + 3, RAY * 11 // 10 // 1000, RAY * 9 // 10 // 1000
write("ticket_value", "ticket_value", {"shares": t_shares, "rate_request": rate_req, "rate_finalization": rate_fin},
      {"value": t_shares * min(rate_req, rate_fin) // RAY})

# Emission per epoch and cumulative, per schedule.
initial, decay = 10 * 10**15, 999 * 10**24
series, e = [], initial
for _ in range(5):
    series.append(e)
    e = e * decay // RAY
write("emission_epoch_decaying", "emission_epoch",
      {"schedule": {"kind": "decaying", "initial_per_epoch": initial, "decay_ray": decay}, "epochs": 5},
      {"emission": series, "cumulative": [sum(series[: i + 1]) for i in range(5)]})
write("emission_epoch_constant", "emission_epoch",
      {"schedule": {"kind": "constant", "per_epoch": 7 * 10**17}, "epochs": 3},
      {"emission": [7 * 10**17] * 3, "cumulative": [7 * 10**17 * (i + 1) for i in range(3)]})
per, budget = 3 * 10**18, 10 * 10**18
fixed = [min(per, max(budget - i * per, 0)) for i in range(5)]
write("emission_epoch_fixed_budget", "emission_epoch",
      {"schedule": {"kind": "fixed_budget", "per_epoch": per, "budget": budget}, "epochs": 5},
      {"emission": fixed, "cumulative": [sum(fixed[: i + 1]) for i in range(5)]})


# A whole settlement: chains (partner shares), the protocol fee, the reward pool split by weight
# (blocks, stake = bond + pool tokens, or a blend: blend_bps of the pool by blocks, the rest by
# stake), each part rounded down, what rounding leaves carried as dust. A jailed sequencer's
# part goes to the treasury ("to_treasury"), or it gets no weight at all ("redistribute"). A
# sequencer with no stake at all gives its bond nothing: the staker side goes to its pool.
def settle(chains, emission, dust_in, sequencers, fee_bps, weighting="blocks", blend_bps=0,
           jailed_rewards="to_treasury"):
    payouts, after = [], 0
    for c in chains:
        s = share(c["gross"], c["cost"], c["a_bps"], c["b_bps"]) if c.get("partner") else 0
        c_out = dict(chain_id=c["chain_id"], share=s)
        payouts.append(c_out)
        after += c["gross"] - s + c["mev"]
    fee = after * fee_bps // BPS
    reward_pool = after - fee + emission + dust_in

    def excluded(s):
        return s["jailed"] and jailed_rewards == "redistribute"

    def split(pool, weights):
        total = sum(weights)
        return [pool * w // total if total else 0 for w in weights]

    by_blocks = [0 if excluded(s) else s["blocks"] for s in sequencers]
    by_stake = [0 if excluded(s) else s["bond"] + s["pool_tokens"] for s in sequencers]
    if weighting == "blocks":
        parts = split(reward_pool, by_blocks)
    elif weighting == "stake":
        parts = split(reward_pool, by_stake)
    else:
        blocks_pool = reward_pool * blend_bps // BPS
        parts = [a + b for a, b in zip(split(blocks_pool, by_blocks), split(reward_pool - blocks_pool, by_stake))]
    out = []
    for s, part in zip(sequencers, parts):
        r = dict(id=s["id"], reward=part, to_treasury=0, commission=0, bond_reward=0, pool_reward=0,
                 acc_increment=0, pool_credited=0, dust_after=s["dust_before"])
        if s["jailed"] and jailed_rewards == "to_treasury":
            r["to_treasury"] = part
        else:
            r["commission"] = part * s["commission_bps"] // BPS
            rest = part - r["commission"]
            stake = s["bond"] + s["pool_tokens"]
            r["bond_reward"] = rest * s["bond"] // stake if stake else 0
            r["pool_reward"] = rest - r["bond_reward"]
            credit = r["pool_reward"] + s["dust_before"]
            if s["pool_shares"]:
                r["acc_increment"] = credit * RAY // s["pool_shares"]
                r["pool_credited"] = -(-r["acc_increment"] * s["pool_shares"] // RAY)
            r["dust_after"] = credit - r["pool_credited"]
        out.append(r)
    dust_out = reward_pool - sum(r["reward"] for r in out)
    return {"chains": payouts, "revenue_after_shares": after, "protocol_fee": fee, "reward_pool": reward_pool,
            "dust_out": dust_out, "sequencers": out}


chains = [
    {"chain_id": 10, "gross": 100_000, "cost": 30_000, "mev": 1_000, "partner": "0x" + "aa" * 20,
     "a_bps": 250, "b_bps": 1500},
    {"chain_id": 8453, "gross": 50_001, "cost": 0, "mev": 0, "partner": None, "a_bps": 0, "b_bps": 0},
]
sequencers = [
    {"id": 1, "blocks": 2, "bond": 100, "pool_tokens": 300, "pool_shares": 300_000, "commission_bps": 1000,
     "jailed": False, "dust_before": 5},
    {"id": 2, "blocks": 1, "bond": 50, "pool_tokens": 0, "pool_shares": 0, "commission_bps": 500,
     "jailed": False, "dust_before": 0},
    {"id": 3, "blocks": 3, "bond": 80, "pool_tokens": 20, "pool_shares": 20, "commission_bps": 1000,
     "jailed": True, "dust_before": 0},
]
write("settlement_two_chains_jailed", "settlement",
      {"protocol_fee_bps": 1000, "weighting": "blocks", "jailed_rewards": "to_treasury", "emission": 1_000_000,
       "dust_in": 8, "chains": chains, "sequencers": sequencers},
      settle(chains, 1_000_000, 8, sequencers, 1000))

# Stake weighting with jailed parts redistributed: the jailed sequencer, the largest stake, gets
# no weight at all (paying it would take a third of the pool from the others).
redistributed = [
    {"id": 1, "blocks": 2, "bond": 100, "pool_tokens": 300, "pool_shares": 300_000, "commission_bps": 1000,
     "jailed": False, "dust_before": 5},
    {"id": 2, "blocks": 1, "bond": 50, "pool_tokens": 150, "pool_shares": 150_000, "commission_bps": 500,
     "jailed": False, "dust_before": 0},
    {"id": 3, "blocks": 3, "bond": 80, "pool_tokens": 220, "pool_shares": 220_000, "commission_bps": 1000,
     "jailed": True, "dust_before": 3},
]
write("settlement_stake_redistribute", "settlement",
      {"protocol_fee_bps": 1000, "weighting": "stake", "jailed_rewards": "redistribute", "emission": 1_000_000,
       "dust_in": 8, "chains": chains, "sequencers": redistributed},
      settle(chains, 1_000_000, 8, redistributed, 1000, weighting="stake", jailed_rewards="redistribute"))
# A blend (40% by blocks) with jailed parts redistributed, and a sequencer with no stake left
# (bond and pool slashed to nothing, not yet jailed): its blocks part pays commission, its bond
# nothing, and the rest waits as its pool's dust.
blended = redistributed + [
    {"id": 4, "blocks": 2, "bond": 0, "pool_tokens": 0, "pool_shares": 0, "commission_bps": 2000,
     "jailed": False, "dust_before": 0},
]
write("settlement_blend_redistribute", "settlement",
      {"protocol_fee_bps": 1000, "weighting": "blend", "blend_blocks_bps": 4000, "jailed_rewards": "redistribute",
       "emission": 1_000_000, "dust_in": 8, "chains": chains, "sequencers": blended},
      settle(chains, 1_000_000, 8, blended, 1000, weighting="blend", blend_bps=4000, jailed_rewards="redistribute"))


# Slash split: amount = fraction * stake at infraction / 10_000; the bond first, then the pool,
# buckets and the tranches together pro rata (floors), rounding wei one each to pool, buckets,
# tranches in order from those with room; the tranches' part then spread over the tranches in
# order by cumulative value: take * C_i // H - take * C_(i-1) // H (C_i the values through i, H
# their total), so the shares sum to the part.
def slash(fraction, stake, bond, pool, buckets, tranches):
    amount = stake * fraction // BPS
    from_bond = min(amount, bond)
    rest = amount - from_bond
    held = [pool] + buckets + [sum(tranches)]
    others = sum(held)
    if rest >= others:
        taken, shortfall = held[:], rest - others
    else:
        taken = [rest * h // others for h in held]
        left = rest - sum(taken)
        for i, h in enumerate(held):
            if left and taken[i] < h:
                taken[i] += 1
                left -= 1
        shortfall = 0
    nb = len(buckets)
    take, total = taken[-1], sum(tranches)
    from_tranches, cumulative = [], 0
    for value in tranches:
        upto = cumulative + value
        from_tranches.append(min(value, take * upto // total - take * cumulative // total))
        cumulative = upto
    return {"amount": amount, "from_bond": from_bond, "from_pool": taken[0], "from_buckets": taken[1:1 + nb],
            "from_tranches": from_tranches, "shortfall": shortfall}


slash_in = {"fraction_bps": 750, "stake_at_infraction": 1_234_567 * 10**15, "bond": 20 * 10**18,
            "pool": 700 * 10**18 + 3, "buckets": [100 * 10**18 + 1, 7], "tranches": [50 * 10**18 + 11]}
write("slash_split", "slash_split", slash_in,
      slash(750, slash_in["stake_at_infraction"], slash_in["bond"], slash_in["pool"], slash_in["buckets"],
            slash_in["tranches"]))
# Several tranches of unequal value whose cumulative floors differ from a floor per tranche.
slash_tranches_in = {"fraction_bps": 3333, "stake_at_infraction": 91 * 10**18 + 7, "bond": 10**18,
                     "pool": 40 * 10**18, "buckets": [3 * 10**18 + 1],
                     "tranches": [10**18 + 3, 7, 10 * 10**18, 5 * 10**18 + 1, 13]}
write("slash_split_tranches", "slash_split", slash_tranches_in,
      slash(3333, slash_tranches_in["stake_at_infraction"], slash_tranches_in["bond"], slash_tranches_in["pool"],
            slash_tranches_in["buckets"], slash_tranches_in["tranches"]))

# Downtime: jailed when, over the report's epochs, missed > max_missed_bps of blocks + missed.
def downtime(epochs, max_missed_bps):
    totals = {}
    for epoch in epochs:
        for s in epoch:
            b, m = totals.get(s["id"], (0, 0))
            totals[s["id"]] = (b + s["blocks"], m + s["missed"])
    return [i for i, (b, m) in sorted(totals.items()) if m > 0 and m * BPS > (b + m) * max_missed_bps]


downtime_epochs = [[{"id": 1, "blocks": 3, "missed": 2}, {"id": 2, "blocks": 1, "missed": 1}],
                   [{"id": 1, "blocks": 0, "missed": 1}, {"id": 2, "blocks": 1, "missed": 2}]]
write("downtime", "downtime", {"max_missed_bps": 5000, "epochs": downtime_epochs},
      {"jailed": downtime(downtime_epochs, 5000)})

# The liquid pool's stake moves for an allocation: decreases paired with increases by
# redelegation in id order, increases left delegated from the buffer, decreases left undelegated.
def stake_moves(pools, targets):
    over, under = [], []
    for t in targets:
        p = pools.get(t["sequencer_id"], {"delegated": 0, "redelegated_in": 0})
        current = p["delegated"] + p["redelegated_in"]
        over.append(min(current - t["target"], p["delegated"]) if t["target"] <= current else 0)
        under.append(t["target"] - current if t["target"] > current else 0)
    moves, a, b = [], 0, 0
    while a < len(targets) and b < len(targets):
        if over[a] == 0:
            a += 1
        elif under[b] == 0:
            b += 1
        else:
            amount = min(over[a], under[b])
            moves.append({"kind": "redelegate", "from": targets[a]["sequencer_id"],
                          "to": targets[b]["sequencer_id"], "amount": amount})
            over[a] -= amount
            under[b] -= amount
    moves += [{"kind": "delegate", "from": 0, "to": t["sequencer_id"], "amount": u}
              for t, u in zip(targets, under) if u]
    moves += [{"kind": "undelegate", "from": t["sequencer_id"], "to": 0, "amount": o}
              for t, o in zip(targets, over) if o]
    return moves


# The pool holds 8 with each of two sequencers (the forge scenario) and the queue lacks about 6.
moves_pools = {1: {"delegated": 8 * 10**18, "redelegated_in": 0}, 2: {"delegated": 8 * 10**18, "redelegated_in": 0}}
moves_targets = [{"sequencer_id": 1, "target": 4 * 10**18}, {"sequencer_id": 2, "target": 9 * 10**18}]
write("stake_moves", "stake_moves",
      {"pools": [{"id": i, **p} for i, p in moves_pools.items()], "targets": moves_targets},
      {"moves": stake_moves(moves_pools, moves_targets)})

# Finalization batches. Tickets finalize at the token's finalization rate,
# (pooled - min(pending_loss, pooled) + 1) * RAY / (supply + 1000), rounded down (the share rate
# without a pending slash loss). A batch is consecutive tickets in one run (the run grows at each
# ticket requested at a lower rate than the one before it) with all rates at request on one side
# of the rate (<= or >); the queue locks min(sum of values at request, sum of shares * rate // RAY)
# for it. The reporter's plan: cut where the run or the side changes; stop before the first
# ticket that would take the total locked above the budget (the buffer), or that needs a cut
# when max_batches batches are made. Each total is recomputed from the batches as a whole.
def finalization_rate(pooled, pending_loss, supply):
    return (pooled - min(pending_loss, pooled) + V_A) * RAY // (supply + V_S)


def pending_tickets(first, run0, requests):
    """Tickets from id `first`, each (shares, rate at request), with the queue's runs and values."""
    tickets = []
    for i, (shares, rate) in enumerate(requests):
        if tickets:
            run = tickets[-1]["run"] + (1 if rate < tickets[-1]["rate_at_request"] else 0)
        else:
            run = run0
        tickets.append({"id": first + i, "shares": shares, "value": shares * rate // RAY,
                        "rate_at_request": rate, "run": run})
    return tickets


def locked_value(batch, rate):
    return min(sum(t["value"] for t in batch), sum(t["shares"] for t in batch) * rate // RAY)


def one_batch(batch, rate):
    below = [t["rate_at_request"] <= rate for t in batch]
    return len({t["run"] for t in batch}) == 1 and len(set(below)) == 1


def plan_batches(tickets, rate, budget, max_batches):
    batches = []
    for t in tickets:
        if batches and one_batch(batches[-1] + [t], rate):
            candidate = batches[:-1] + [batches[-1] + [t]]
        elif len(batches) == max_batches:
            break
        else:
            candidate = batches + [[t]]
        if sum(locked_value(b, rate) for b in candidate) > budget:
            break
        batches = candidate
    values = [locked_value(b, rate) for b in batches]
    return {"batches": [{"last_ticket_id": b[-1]["id"], "share_rate": rate} for b in batches],
            "values": values, "locked": sum(values), "shares": sum(t["shares"] for b in batches for t in b)}


def refusal(tickets, rate, budget, ends):
    """Why the queue (MixedBatch: the batch's first and last tickets in two runs or on two
    sides) or the token (InsufficientBuffer: more than the buffer) refuses these batch ends."""
    by_id = {t["id"]: t for t in tickets}
    start, locked = tickets[0]["id"], 0
    for index, end in enumerate(ends):
        batch = [by_id[i] for i in range(start, end + 1)]
        if not one_batch([batch[0], batch[-1]], rate):
            return {"ends": ends, "error": "MixedBatch", "index": index, "locked": 0}
        locked += locked_value(batch, rate)
        start = end + 1
    assert locked > budget, "a refused cut must be refused"
    return {"ends": ends, "error": "InsufficientBuffer", "index": 0, "locked": locked}


GWEI = 10**9
plans_in, plans_out = [], []


def plan_case(label, token, last_finalized_id, run0, requests, budget, max_batches=16, refused=()):
    rate = finalization_rate(token["pooled"], token["pending_loss"], token["supply"])
    tickets = pending_tickets(last_finalized_id + 1, run0, requests(rate))
    assert sum(t["shares"] for t in tickets) <= token["supply"] and budget <= token["pooled"]
    plans_in.append({"label": label, "token": token, "rate": rate, "budget": budget, "max_batches": max_batches,
                     "last_finalized_id": last_finalized_id, "tickets": tickets})
    out = plan_batches(tickets, rate, budget, max_batches)
    out["label"] = label
    out["refused"] = [refusal(tickets, rate, budget, list(ends)) for ends in refused]
    plans_out.append(out)
    return out


# Every ticket at or below the rate, rates rising: one batch at the values at request.
plan_case("all_below", {"pooled": 1_200 * 10**18 + 7, "pending_loss": 0, "supply": 1_000 * 10**21 + 13}, 0, 0,
          lambda r: [(3 * 10**21 + 1, RAY // 1000), (2_500 * 10**18, RAY // 1000 + 5 * 10**22),
                     (10 * 10**21 + 7, RAY // 1000 + 10**23), (10**21, RAY // 1000 + 10**23), (4 * 10**21 + 3, r)],
          500 * 10**18)
# Rewards, then a slash, then another: the second ticket lies above the rate, the third starts a
# new run below it, the fifth another. Four batches; a batch across a run is refused even when
# its ends lie on one side.
plan_case("run_change_after_slash", {"pooled": 1_000 * 10**18 + 3, "pending_loss": 0, "supply": 990 * 10**21}, 0, 0,
          lambda r: [(6 * 10**21, r - 5 * 10**20), (6 * 10**21 + 1, r + 3 * 10**20), (6 * 10**21 + 2, r - 2 * 10**20),
                     (10**21, r - 10**20), (2 * 10**21, r - 15 * 10**19)],
          100 * 10**18, refused=[(5,), (2, 5), (1, 2, 5)])
# Bunker mode: a pending slash loss puts the finalization rate below the share rate the last
# tickets were requested at; they take their shares at the lower rate, rounded once.
plan_case("bunker_above", {"pooled": 1_000 * 10**18, "pending_loss": 30 * 10**18 + 7, "supply": 1_000 * 10**21 - 11},
          0, 0,
          lambda r: [(5 * 10**21, 95 * RAY // 100_000)] + [(10**21 + 333 * i, finalization_rate(1_000 * 10**18, 0,
                                                                                                1_000 * 10**21 - 11))
                                                            for i in range(1, 5)],
          200 * 10**18, refused=[(5,), (2, 5)])
# After 41 finalized tickets: the budget ends the plan inside the second batch (ticket 46 would
# take it over by a wei), although ticket 47 alone would fit: batches end at a ticket id.
mid_rate = finalization_rate(800 * 10**18, 0, 700 * 10**21)
mid_tickets = [(3 * 10**21, mid_rate - 10**20), (2 * 10**21 + 9, mid_rate - 9 * 10**19), (10**21, mid_rate),
               (4 * 10**21 + 1, mid_rate - 3 * 10**20), (5 * 10**21, mid_rate - 2 * 10**20), (10**18, mid_rate)]
mid_values = [t["value"] for t in pending_tickets(42, 3, mid_tickets)]
plan_case("budget_mid_queue", {"pooled": 800 * 10**18, "pending_loss": 0, "supply": 700 * 10**21}, 41, 3,
          lambda r: mid_tickets, sum(mid_values[:5]) - 1, refused=[(44, 46), (44, 47)])
# Tickets above the rate, each worth 0.6 wei more than a whole wei at it: one at a time they
# would fit the budget, but the batch rounds once and the fifth would lock 3 wei too many.
plan_case("batch_rounding", {"pooled": 10 * 10**18 - 1, "pending_loss": 0, "supply": 20 * 10**21 - 1_000}, 0, 0,
          lambda r: [(10**21 + 1_200, 2 * r)] * 5, 5 * (5 * 10**17) + 2, refused=[(5,)])
# Alternating sides, each ticket below the rate requested after a fall: every ticket is its own
# batch, and the plan stops at the report's 16.
plan_case("batch_cap", {"pooled": 1_500 * 10**18 + 1, "pending_loss": 0, "supply": 1_400 * 10**21 + 9}, 0, 0,
          lambda r: [(10**21 + i, r - 10**20 + i * 10**15 if i % 2 == 0 else r + 10**20 + i * 10**15)
                     for i in range(20)],
          1_000 * 10**18)
# The first ticket alone is worth more than the buffer: nothing to finalize.
plan_case("first_too_big", {"pooled": 100 * 10**18, "pending_loss": 0, "supply": 100 * 10**21}, 0, 0,
          lambda r: [(50 * 10**21, r), (10**21, r)], 50 * 10**18 - 1, refused=[(1,)])
assert plans_out[5]["batches"][-1]["last_ticket_id"] == 16 and len(plans_out[5]["batches"]) == 16
assert plans_out[4]["locked"] == 4 * (5 * 10**17) + 2 and plans_out[6]["batches"] == []

rates_in = [
    {"label": "no_loss", "pooled": 1_234 * 10**18 + 5, "pending_loss": 0, "supply": 1_100 * 10**21 + 77},
    {"label": "bunker", "pooled": 1_000 * 10**18, "pending_loss": 37 * 10**18 + 3, "supply": 990 * 10**21},
    {"label": "loss_above_pool", "pooled": 5 * 10**18, "pending_loss": 9 * 10**18, "supply": 5_000 * 10**18},
    {"label": "rounding", "pooled": 2, "pending_loss": 1, "supply": 3},
]
write("finalization_batches", "finalization_batches", {"rates": rates_in, "plans": plans_in},
      {"rates": [finalization_rate(r["pooled"], r["pending_loss"], r["supply"]) for r in rates_in],
       "plans": plans_out})

# The report encoding and hash, pinned for both sides. The ABI encoding comes from Foundry's
# `cast abi-encode` (node_modules), an implementation independent of both sides' code.
import subprocess

CAST = os.path.join(HERE, "..", "..", "node_modules", "@foundry-rs", "cast-linux-amd64", "bin", "cast")
CHAIN = "(uint64,uint256,uint256,uint256,bytes32,address,uint16,uint16,uint256)"
SEQ = "(uint32,uint64,uint64,uint256,uint256,bool)"
EPOCH = f"(uint64,{CHAIN}[],uint256,uint256,uint256,{SEQ}[],uint256,uint256)"
REPORT = f"((uint64,uint64,uint64,uint64),{EPOCH}[],uint32[],(uint256,(uint32,uint256)[],(uint256,uint256)[]))"
DOMAIN_TAG = "0xd8d78100a0882996299667e26e0e10c9665a4896fef253db8851cb564ed8ad26"

report = {
    "header": {"first_epoch": 41, "last_epoch": 42, "ref_block": 123_456, "chain_id": 31_337},
    "epochs": [
        {"epoch": 41,
         "chains": [{"chain_id": 10, "gross": 100_000, "cost": 30_000, "mev": 1_000,
                     "evidence_hash": "0x" + "11" * 32, "partner": "0x" + "aa" * 20, "a_bps": 250, "b_bps": 1500,
                     "share": 10_500}],
         "protocol_fee": 14_050, "emission": 1_000_000, "total_supply": 0,
         "sequencers": [{"id": 1, "blocks": 2, "missed_blocks": 0, "reward": 375_486, "acc_after": 844_863_333_333_333_333_333_333_333,
                         "jailed": False},
                        {"id": 3, "blocks": 3, "missed_blocks": 9, "reward": 563_229, "acc_after": 0, "jailed": True}],
         "dust_in": 8, "dust_out": 1},
        {"epoch": 42, "chains": [], "protocol_fee": 0, "emission": 999_000, "total_supply": 0, "sequencers": [],
         "dust_in": 1, "dust_out": 999_001},
    ],
    "active_set": [1, 2, 4],
    "liquid": {"pool_rewards": 253_458,
               "allocation": [{"sequencer_id": 1, "target": 5 * 10**18}, {"sequencer_id": 2, "target": 7}],
               "batches": [{"last_ticket_id": 12, "share_rate": RAY // 1000}]},
}


def tuple_text(r):
    h = r["header"]
    def chain(c):
        return f"({c['chain_id']},{c['gross']},{c['cost']},{c['mev']},{c['evidence_hash']},{c['partner']},{c['a_bps']},{c['b_bps']},{c['share']})"
    def seq(s):
        return (f"({s['id']},{s['blocks']},{s['missed_blocks']},{s['reward']},{s['acc_after']},"
                f"{str(s['jailed']).lower()})")
    def epoch(e):
        return (f"({e['epoch']},[{','.join(chain(c) for c in e['chains'])}],{e['protocol_fee']},{e['emission']},"
                f"{e['total_supply']},[{','.join(seq(s) for s in e['sequencers'])}],{e['dust_in']},{e['dust_out']})")
    liquid = r["liquid"]
    alloc = ",".join(f"({a['sequencer_id']},{a['target']})" for a in liquid["allocation"])
    batches = ",".join(f"({b['last_ticket_id']},{b['share_rate']})" for b in liquid["batches"])
    return (f"(({h['first_epoch']},{h['last_epoch']},{h['ref_block']},{h['chain_id']}),"
            f"[{','.join(epoch(e) for e in r['epochs'])}],[{','.join(str(i) for i in r['active_set'])}],({liquid['pool_rewards']},[{alloc}],[{batches}]))")


def cast(*args):
    return subprocess.run([CAST, *args], check=True, capture_output=True, text=True).stdout.strip()


encoded = cast("abi-encode", f"f({REPORT})", tuple_text(report))
chain_id, contract = 31_337, "0x" + "c0" * 20
preimage = cast("abi-encode", f"f(bytes32,uint256,address,{REPORT})", DOMAIN_TAG, str(chain_id), contract,
                tuple_text(report))
write("report_hash", "report_hash",
      {"report": report, "chain_id": chain_id, "report_contract": contract},
      {"encoded": encoded, "hash": cast("keccak", preimage)})
