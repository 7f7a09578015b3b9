// Projections: the read models of the ledger, fed by the domain in log order and stored in
// the `projections` column family in the same WriteBatch as the entries that change them.
//
// Rows (keys are text with '/' separators; u64/i64 big-endian), layout 3:
//   h/fund/<fund>/<bucket>/<u64 index>   -> i64 posted, i64 pending         balance after entry
//                                           (a fund account's newest row is its balance)
//   r/<program>/<period>/<region>        -> i64 amount, i64 lines, i64 people
//                                           (changed once per entry: its payments summed)
//   digest                               -> 32-byte multiset hash, u64 rows, u64 layout (3)
// Current balances, the balances of people and external sources, and what each person was
// paid are held in memory only (rebuilt by replay): only fund balances are asked as of a past
// entry, and that is all the store keeps a history of.
//
// The digest is order-independent: the sum, modulo 2^256, of SHA-256(key || 0 || value) over
// every row but itself, so it is updated in O(1) per row changed and equals the digest of a
// full replay exactly when the two hold the same rows. Two nodes compare 32 bytes.
//
// A store whose digest row names another layout, or has another size, is refused on open
// (StoredDigest): nothing converts one layout into another; `fundledger replay --repair`
// rebuilds the rows from the log.
//
// As-of queries of fund balances read the history rows: one SeekForPrev, O(log n) in RocksDB.
//
// Snapshot state (SaveState, written into replay/snapshot.h's file; integers big-endian,
// strings as u64 length and bytes, every list in key order):
//   4 x u64 digest limbs (least significant first), u64 rows
//   u64 n, n x (str account, i64 posted, i64 pending)
//   u64 n, n x (str beneficiary, u64 m, m x (str "<program>/<period>", i64 amount, i64 lines))
//   u64 n, n x (str "r/<program>/<period>/<region>", i64 amount, i64 lines, i64 people)
//
//   Projections projections;
//   auto ledger = Ledger::Open(dir, WithProjections(projections, {}));
//   Balance b = (*ledger)->domain().Read(
//       [&](const DomainState& at) { return projections.BalanceOf(at, account); });
//
// Thread safety: OnApplied from one thread at a time, in log order (effects.h), always while
// the domain's read gate is held exclusively (ledger/domain.h). Queries take the
// `const DomainState&` that Domain::Read hands its callback: it proves the gate is held
// shared, so an answer holds only durable entries, the same `at.next_index` entries as `at`.
#pragma once

#include <map>
#include <optional>
#include <unordered_map>

#include "crypto/mutex.h"
#include "ledger/amount.h"
#include "ledger/domain_state.h"
#include "ledger/effects.h"
#include "ledger/ledger.h"
#include "ledger/log.h"
#include "ledger/string_map.h"
#include "projections/checked_totals.h"

namespace fundledger {

// The layout of the rows above, recorded in the digest row.
inline constexpr uint64_t kProjectionsLayout = 3;
inline constexpr char kProjectionsDigestKey[] = "digest";
// The digest row's value: multiset hash, row count, layout.
inline constexpr size_t kProjectionsDigestRowBytes = kHashBytes + 8 + 8;
static_assert(kProjectionsDigestRowBytes == 48, "the digest row's format changed: a new layout");

struct PaidTotal {
  int64_t amount_fen = 0;
  int64_t lines = 0;
  bool operator==(const PaidTotal&) const = default;
};
struct RegionTotal {
  int64_t amount_fen = 0;
  int64_t lines = 0;
  int64_t beneficiaries = 0;  // people with at least one paid line in (program, period, region)
};

// The multiset digest of a set of rows (above): a row added, or taken out, in O(1).
struct RowDigest {
  uint64_t limbs[4] = {0, 0, 0, 0};  // little-endian 256-bit sum
  uint64_t rows = 0;
  void Add(std::string_view key, std::string_view value, bool subtract);
  Hash Bytes32() const;
};

class Projections final : public EntryObserver {
 public:
  void OnApplied(const AppliedEntry& entry, ApplyContext& context) override;
  // During a replay the digest leaves out the rows that change in place (r/) and adds their
  // final values at the end: one hash per row instead of two per change.
  void OnReplayBegin() override;
  void OnReplayEnd(ApplyContext& context) override;
  // The first entry whose balance, paid total or region total would overflow 64 bits (only an
  // imported log can hold one: the domain's rules keep a live ledger's sums far below that),
  // as a Corruption naming it; kept until that entry is undone. The sum is left as it was.
  Status failure() const override;
  std::optional<uint64_t> failed_entry() const;  // that entry's index

  // Queries: `at` is the state handed to Domain::Read's callback (see above).
  Hash digest(const DomainState& at) const;
  uint64_t rows(const DomainState& at) const;
  Balance BalanceOf(const DomainState& at, const std::string& account) const;
  // Every account whose name starts with `prefix` ("fund/F1/" for one fund's buckets).
  std::map<std::string, Balance> BalancesWithPrefix(const DomainState& at,
                                                    const std::string& prefix) const;
  std::map<std::string, PaidTotal> PaidTo(
      const DomainState& at,
      const std::string& beneficiary) const;  // "<program>/<period>"
  std::map<std::string, RegionTotal> RegionTotals(
      const DomainState& at,
      const std::string& program) const;  // "<period>/<region>"
  // Sum of every balance (posted): zero when double entry holds; a Corruption if the sum
  // would overflow 64 bits on the way.
  Result<Amount> SumOfBalances(const DomainState& at) const;

  // The in-memory state as bytes, and back (snapshots).
  std::string SaveState() const;
  Status LoadState(std::string_view bytes);

  // The digest and row count of the rows actually stored (a scan of the column), for
  // comparison with a replay: catches rows changed behind the ledger's back (a digest row that
  // disagrees with the rows gives a digest no replay has). A store of another layout is a
  // Corruption saying which layout was found, which this build reads, and how to rebuild it.
  static Result<std::pair<Hash, uint64_t>> StoredDigest(const Log& log);
  // Balance of fund account `account` after entry `index`, from the history rows; other
  // accounts keep no history (InvalidArgument).
  static Result<Balance> BalanceAsOf(const Log& log, const std::string& account, uint64_t index);

 private:
  // `in_place`: a row that changes in place (r/), as opposed to the add-only history.
  void PutRow(ApplyContext& ctx, const std::string& key, const std::string& old_value,
              const std::string& value, bool in_place) FL_REQUIRES(mu_);
  // Adds (or subtracts) every in-place row, as held in memory, to the digest.
  void DigestInPlaceRows(bool subtract) FL_REQUIRES(mu_);
  void PutDigestRow(ApplyContext& ctx) const FL_REQUIRES_SHARED(mu_);
  // The balances of the entry's postings, and the history rows of the funds they move.
  void ApplyPostings(const AppliedEntry& entry, ApplyContext& ctx) FL_REQUIRES(mu_);
  // What each person was paid, and the region totals (one row change per region).
  void ApplyPayments(const AppliedEntry& entry, ApplyContext& ctx) FL_REQUIRES(mu_);

  // What a person was paid for one program and period. A person's rows are kept sorted by
  // (period, program): a month's payment lands at or near the end. 24 bytes a row, where a
  // map node keyed by "<program>/<period>" took ~100 (a year of a city's roll lines is
  // millions of rows).
  struct PaidRow {
    int32_t period = 0;
    NameId program = 0;  // in programs_
    int64_t amount_fen = 0;
    int64_t lines = 0;
    auto Key() const { return std::pair(period, program); }
  };
  static_assert(sizeof(PaidRow) == 24, "a paid row per person, program and month: keep it small");
  // A person paid at least once (or whose payment was undone: rows empty), in `people_`.
  struct Person {
    std::string name;
    std::vector<PaidRow> rows;
  };
  // Where the domain's id of a name leads here (an index in people_, programs_ or accounts_),
  // learnt as effects arrive. A hit counts only when the name found there is the effect's (the
  // caller compares): the domain's ids are its own and change meaning with a snapshot load.
  class DomainIds {
   public:
    // The index remembered for `id`, or nullopt.
    std::optional<uint32_t> Find(NameId id) const {
      if (id >= index_plus_one_.size() || index_plus_one_[id] == 0) return std::nullopt;
      return index_plus_one_[id] - 1;
    }
    void Remember(NameId id, uint32_t index);
    void Clear() { index_plus_one_.clear(); }

   private:
    std::vector<uint32_t> index_plus_one_;  // by NameId; 0: unknown
  };
  // The person's place in `people_` (added if new) and the program's id in `programs_`, found
  // through the domain's id when the effect carries one, else by name; either way the id then
  // leads there.
  uint32_t PersonOf(NameId id, std::string_view name) FL_REQUIRES(mu_);
  NameId ProgramOf(NameId id, std::string_view name) FL_REQUIRES(mu_);
  // The posting's account's id in `accounts_`, found the same way.
  AccountId AccountOf(const Posting& p) FL_REQUIRES(mu_);
  // The first of a person's rows not before `key` (where a row of that key is or would go).
  static std::vector<PaidRow>::iterator PaidRowAt(std::vector<PaidRow>& rows,
                                                  std::pair<int32_t, NameId> key);
  // The person's row of (program, period), created (zero) if absent; `existed` says which.
  PaidRow& PaidRowOf(std::vector<PaidRow>& rows, NameId program, int32_t period, bool* existed)
      FL_REQUIRES(mu_);
  std::string PaidKey(const PaidRow& row) const FL_REQUIRES_SHARED(mu_);  // "<program>/<period>"

  // Taken beside the domain's gate (which alone orders writers and readers) because OnApplied
  // may run on a thread beside the domain's (effects.h).
  mutable SharedMutex mu_;
  Accounts accounts_ FL_GUARDED_BY(mu_);        // every account's balance, by its id here
  DomainIds account_of_id_ FL_GUARDED_BY(mu_);  // the domain's AccountId -> id in accounts_
  Names programs_ FL_GUARDED_BY(mu_);           // the programs paid so far
  std::vector<Person> people_ FL_GUARDED_BY(mu_);
  StringMap<uint32_t> person_of_name_ FL_GUARDED_BY(mu_);  // beneficiary -> index in people_
  DomainIds person_of_id_ FL_GUARDED_BY(mu_);          // the domain's NameId -> index in people_
  DomainIds program_of_id_ FL_GUARDED_BY(mu_);         // the domain's NameId -> id in programs_
  StringMap<RegionTotal> regions_ FL_GUARDED_BY(mu_);  // key: r/... row key
  RowDigest digest_ FL_GUARDED_BY(mu_);
  bool replaying_ FL_GUARDED_BY(mu_) = false;  // the digest lacks the in-place rows until the end
  CheckedTotals totals_ FL_GUARDED_BY(mu_);    // every sum above goes through it: failure()
};

// Registers `projections` as an observer of the ledger and makes the open fail when the rows
// replayed from the log differ from the stored ones (someone changed the projections column).
LedgerOptions WithProjections(Projections& projections, LedgerOptions options);

}  // namespace fundledger
