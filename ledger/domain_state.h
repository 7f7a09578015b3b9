// The ledger's current state as the rules need it: funds, programs, beneficiaries,
// enrollments, balances, disbursement batches and which (beneficiary, program, period) is
// paid. It is a pure function of the log: the domain rebuilds it by replay on open.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cassert>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/sha256.h"
#include "ledger/actor_keys.h"
#include "ledger/amount.h"
#include "ledger/domain_accounts.h"
#include "ledger/effects.h"
#include "ledger/entry_generated.h"
#include "ledger/line_corrections.h"
#include "ledger/names.h"
#include "ledger/payment_slots.h"
#include "ledger/string_map.h"

namespace fundledger {

struct FundState {
  std::string name;
  fb::FundKind kind = fb::FundKind::subsidy;
  std::string organisation;
  std::set<std::string> programs;
  std::set<std::string> purposes;
  std::string bank_account_token;
  std::set<std::string> buckets;  // every bucket that ever held money
  bool closed = false;
  // Buckets holding lottery money granted to this fund (or released or moved from such a
  // bucket), with the approved category it was granted for: it stays lottery money.
  std::map<std::string, std::string> lottery_buckets;
};

// One recorded standard: in force from effective_month on, recorded by entry `index` (the
// ProgramDefined or a ProgramStandardChanged).
struct StandardTerm {
  int32_t effective_month = 0;
  int64_t standard_fen = 0;
  int64_t cap_fen = 0;
  uint64_t index = 0;    // the entry that recorded it
  std::string document;  // the decision it came from (empty for the definition's term)
};

// One-off programs without their own limit: one payment to a person in any 12 months.
inline constexpr int32_t kOneOffPaymentsMaxDefault = 1;
inline constexpr int32_t kOneOffWindowMonthsDefault = 12;

struct ProgramState {
  std::string name;
  fb::ProgramCategory category = fb::ProgramCategory::other;
  fb::PaymentPeriod period = fb::PaymentPeriod::monthly;
  // Every term ever recorded, in the order recorded (by index): none is replaced.
  std::vector<StandardTerm> terms;
  std::set<std::string> excludes;
  int32_t age_min_years = 0;
  int32_t age_max_years = 0;
  int32_t payments_max = 0;  // one_off programs; 0: kOneOffPaymentsMaxDefault
  int32_t payments_window_months = 0;

  // The term in force in `month` as recorded before entry `before_index` (default: as of now):
  // of the terms recorded before it and effective by `month`, the latest effective, and of
  // those the latest recorded. Null before the program's first effective month.
  const StandardTerm* TermAt(int32_t month, uint64_t before_index = UINT64_MAX) const;
  // The limit on one-off payments, with the defaults applied.
  int32_t PaymentsMax() const {
    return payments_max > 0 ? payments_max : kOneOffPaymentsMaxDefault;
  }
  int32_t PaymentsWindowMonths() const {
    return payments_window_months > 0 ? payments_window_months : kOneOffWindowMonthsDefault;
  }
};

struct StatusChange {
  int32_t effective_date = 0;
  fb::BeneficiaryStatus status = fb::BeneficiaryStatus::active;
  uint64_t index = 0;  // the entry that recorded it
};

struct Disclosure {
  std::string organisation;
  std::string fund;
  std::string period;
  std::string schedule_item;
  uint64_t index = 0;
  int64_t timestamp_ms = 0;
  uint64_t corrects_index = 0;
};

struct BeneficiaryState {
  std::string household;
  std::string region;
  NameId region_name = kNoNameId;  // region, interned in DomainState::names (kNoNameId: none)
  Hash id_commitment{};
  int32_t birth_month = 0;
  int32_t birth_date = 0;  // yyyymmdd from the ID number; 0: only the month is known
  fb::PayeeRole payee_role = fb::PayeeRole::self;
  std::vector<uint8_t> bank_account_token;
  int32_t registered_date = 0;
  uint64_t registered_index = 0;
  std::vector<StatusChange> statuses;  // sorted by effective date
  bool erased = false;

  fb::BeneficiaryStatus StatusOn(int32_t date) const;
  // The date of death, or 0.
  int32_t DeathDate() const;
  // Completed years of age on `date` (yyyymmdd): N from the Nth birthday on (29 February: 1
  // March in common years). Without a birth date (older entries), born on birth_month's 1st.
  int32_t AgeOn(int32_t date) const;
};

struct EnrollmentTerm {
  int32_t from_month = 0;
  int32_t to_month = 0;  // 0: open-ended
  int64_t monthly_amount_fen = 0;
  int32_t age_extension_to_month = 0;  // 0: none; paid past the program's age_max through it
  std::string age_extension_doc;
  bool Covers(int32_t month) const {
    return month >= from_month && (to_month == 0 || month <= to_month);
  }
};

// An enrolment's key: the person and the program, both interned in DomainState::names. A roll
// line looks its enrolment up by the two ids it already holds, with no key string built.
struct EnrollmentId {
  NameId beneficiary = 0;
  NameId program = 0;
  bool operator==(const EnrollmentId&) const = default;
};
using EnrollmentTerms = std::vector<EnrollmentTerm>;

// Enrolments by person: at each person's NameId, the programs the person is enrolled in, with
// their terms. A roll pays people in about the order they were registered (their ids' order),
// so its lines walk this array in order; a hash map keyed by (person, program) sent every line
// to a random slot (a cache miss a line at 1M people: 10% of a roll's CPU).
//
//   bool added = false;
//   EnrollmentTerms& terms = enrollments.GetOrAdd({person, program}, &added);
//   const EnrollmentTerms* found = enrollments.Find({person, program});  // &terms
class Enrollments {
 public:
  // The terms of `id`, or null when the person was never enrolled in the program.
  const EnrollmentTerms* Find(EnrollmentId id) const {
    if (id.beneficiary >= by_person_.size()) return nullptr;
    for (const ProgramTerms& p : by_person_[id.beneficiary]) {
      if (p.program == id.program) return &p.terms;
    }
    return nullptr;
  }
  // The terms of `id`, added empty when absent (`*added` says which). The reference is valid
  // until the next GetOrAdd or Erase of the same person.
  EnrollmentTerms& GetOrAdd(EnrollmentId id, bool* added = nullptr);
  void Erase(EnrollmentId id);
  size_t size() const { return size_; }
  // fn(EnrollmentId, const EnrollmentTerms&) for each enrolment, by person id.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (NameId b = 0; b < by_person_.size(); ++b) {
      for (const ProgramTerms& p : by_person_[b]) fn(EnrollmentId{b, p.program}, p.terms);
    }
  }

 private:
  struct ProgramTerms {
    NameId program = 0;
    EnrollmentTerms terms;
  };
  std::vector<std::vector<ProgramTerms>> by_person_;  // by the person's NameId
  size_t size_ = 0;
};

struct BatchLine {
  uint32_t line_no = 0;
  NameId beneficiary = 0;  // in DomainState::names
  NameId program = 0;
  int32_t period = 0;
  int64_t amount_fen = 0;
  LineState state = LineState::kPending;

  SlotKey slot() const { return SlotKey{beneficiary, program, period}; }
};
static_assert(sizeof(BatchLine) == 32, "a roll line is kept in 32 bytes (a 1M-line roll: 32 MB)");

enum class BatchStatus : uint8_t { kPrepared, kApproved, kRejected };
std::string_view BatchStatusName(BatchStatus status);

struct BatchState {
  std::string maker;
  std::string fund;
  std::string bucket;
  int32_t period = 0;
  uint64_t prepared_index = 0;
  uint64_t decided_index = 0;
  BatchStatus status = BatchStatus::kPrepared;
  int64_t total_fen = 0;
  uint32_t chunks = 0;
  uint32_t chunks_seen = 0;
  std::vector<BatchLine> lines;  // in the order prepared; grown by AddLine only

  // The line numbered `line_no`, or null.
  const BatchLine* FindLine(uint32_t line_no) const;
  BatchLine* FindLine(uint32_t line_no) {
    return const_cast<BatchLine*>(std::as_const(*this).FindLine(line_no));
  }
  // Appends a line; and drops the lines from position `n` on (an undone chunk).
  void AddLine(const BatchLine& line);
  void TruncateLines(size_t n);

  // line_no -> position in lines, kept only once a line's number did not rise above the line
  // before it (an imported log): the rolls the rules accept number their lines upward, and
  // those are found by bisection with no index (an index cost ~32 bytes a line kept).
  boost::unordered_flat_map<uint32_t, size_t> unordered_line_pos;
};

// The postings of every entry a Reversal may name, kept compactly: accounts by their ids in
// DomainState::accounts, postings in one array, and where each entry's postings end in an
// array indexed by entry (~32 bytes per money entry; a map of vectors of strings took ~250,
// which at 10M entries is the difference between 0.3 and 2.5 GB). Entries are added in index
// order.
class ReversibleEntries {
 public:
  // Adds the postings of entry `index`, which comes after every entry added so far. REQUIRES:
  // each posting carries its account's id in the accounts that Find will be given.
  void Add(uint64_t index, const std::vector<Posting>& postings);
  // Undoes the Add of `index` (undo runs newest first, so its postings are the last ones).
  void Remove(uint64_t index);
  bool Contains(uint64_t index) const { return index < present_.size() && present_[index]; }
  // The postings of entry `index`, naming their accounts from `accounts`; empty when it moved
  // nothing reversible.
  std::vector<Posting> Find(uint64_t index, const Accounts& accounts) const;
  size_t size() const { return count_; }
  std::vector<uint64_t> SortedIndices() const;

 private:
  struct CompactPosting {
    AccountId account = 0;
    int64_t posted_delta_fen = 0;
    int64_t pending_delta_fen = 0;
  };
  std::vector<CompactPosting> postings_;
  std::vector<uint64_t>
      ends_;  // by entry index: the end of its postings (the start is the entry before's end)
  std::vector<bool> present_;  // by entry index: added
  size_t count_ = 0;
  uint64_t StartOf(uint64_t index) const { return index == 0 ? 0 : ends_[index - 1]; }
};

// People by their interned name (DomainState::names), pointing at their node in
// DomainState::beneficiaries: a roll line finds its person by one hash probe, or none when the
// line already holds the NameId, instead of walking the ordered map (kept for its order).
// A person not indexed (a state built field by field, as some tests do) is found in the map.
// Not copyable: the pointers belong to one map (moving the state keeps its nodes).
class BeneficiaryIndex {
 public:
  BeneficiaryIndex() = default;
  BeneficiaryIndex(BeneficiaryIndex&&) = default;
  BeneficiaryIndex& operator=(BeneficiaryIndex&&) = default;
  BeneficiaryIndex(const BeneficiaryIndex&) = delete;
  BeneficiaryIndex& operator=(const BeneficiaryIndex&) = delete;

  BeneficiaryState* Get(NameId id) const { return id < people_.size() ? people_[id] : nullptr; }
  // Records `person` under `id`; returns whether `id` held nobody before.
  bool Set(NameId id, BeneficiaryState* person);
  void Clear(NameId id) {
    if (id < people_.size()) people_[id] = nullptr;
  }

 private:
  std::vector<BeneficiaryState*> people_;  // by NameId; null: not a person, or not indexed
};

// A roll chunk's names as the rules found them interned, by their places in the chunk's
// tables (kNoNameId: not interned when checked). The prepare takes these ids instead of hashing
// every name again; names are never taken back, so an id found under the gate stays valid.
struct ChunkNameIds {
  std::vector<NameId> people;    // by DisbursementBatchPrepared.beneficiary_ids
  std::vector<NameId> programs;  // by DisbursementBatchPrepared.program_ids
};

// Who and when, for the entry being checked or applied.
struct EntryMeta {
  uint64_t index = 0;
  int64_t timestamp_ms = 0;
  std::string_view actor;
  fb::Role role = fb::Role::system;
  const SignedEntryView* signed_entry = nullptr;  // for the key registry; null: not its business
  const ChunkNameIds* chunk_names = nullptr;      // a checked roll chunk's names; null: intern each
};

struct DomainState {
  std::map<std::string, FundState> funds;
  std::map<std::string, ProgramState> programs;
  std::map<std::string, BeneficiaryState> beneficiaries;
  BeneficiaryIndex beneficiary_index;  // beneficiaries by NameId (see the class)
  Enrollments enrollments;
  StringMap<std::vector<std::string>> programs_of;  // beneficiary -> programs enrolled
  Accounts accounts;                                // every account and its balance
  std::vector<AccountId> person_accounts;  // by a person's NameId: "ben/<person>" (PersonAccount)
  std::map<std::string, BatchState> batches;
  Names names;                         // of people, programs, batches in lines and slots
  PaymentSlots slots;                  // the one-payment rule: which live line holds each slot
  LineCorrections corrections;         // each line's corrections, what is recovered of it
  StringMap<std::string> commitments;  // id commitment hex -> beneficiary
  ReversibleEntries reversible;        // entry index -> its postings
  std::set<uint64_t> reversed;         // entries already reversed
  std::set<std::string> erased_subjects;
  std::vector<Disclosure> disclosures;
  ActorKeys keys;  // who may sign, and whether signing is required (actor_keys.h)
  uint64_t next_index = 0;

  const Balance& BalanceOf(std::string_view account) const;
  // The id of the person's account "ben/<person>" in `accounts`, interned on first use: an
  // approval's lines find their accounts by array index.
  AccountId PersonAccount(NameId person);
  // The postings of entry `index` that a Reversal would undo (ReversibleEntries::Find).
  std::vector<Posting> ReversiblePostings(uint64_t index) const {
    return reversible.Find(index, accounts);
  }
  // A registered person, or null.
  const BeneficiaryState* FindBeneficiary(std::string_view id) const;
  // The person a line names by NameId, or null.
  const BeneficiaryState* BeneficiaryOf(NameId id) const;
  // A person's terms in a program, by ids or by names; null when never enrolled in it.
  const EnrollmentTerms* EnrollmentsOf(NameId beneficiary, NameId program) const;
  const EnrollmentTerms* EnrollmentsOf(std::string_view beneficiary,
                                       std::string_view program) const;
  // Indexes beneficiaries[id], which exists; returns its NameId when it was not indexed before
  // (the caller's undo clears it), else nullopt.
  std::optional<NameId> IndexBeneficiary(const std::string& id);
};

// An enrolment's key as snapshots write it: beneficiary \x1f program (ids hold no \x1f).
std::string EnrollmentKey(std::string_view beneficiary, std::string_view program);

}  // namespace fundledger
