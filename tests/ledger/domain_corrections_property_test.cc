// Seeded random sequences of roll payments and every correction of them (prepare, approve,
// reject, return, reissue, recover, and the reversal of each), against a domain in memory (no
// log, no disk), many short sequences on a small ledger each. After every step the payment
// invariant is recomputed from the raw accepted entries alone, independently of the domain's
// state: each line's net payment (approval and reissues less returns, each reversal taking its
// entry back) is 0 or the line's amount, what is recovered of it lies within that, a
// (person, program, period) has at most one line that pays or may pay it, and each person's
// net receipts are never negative and equal the domain's account. After each sequence a replay
// of its entries gives the same state, byte for byte, and every disclosure of its fund and
// organisation for the year and each quarter it spans reconciles and recomputes, to the fen,
// from the raw entries (tests/projections/independent_books.h).
//
// FUNDLEDGER_CORRECTION_SEQUENCES sets the number of sequences (default 10,000),
// FUNDLEDGER_CORRECTION_SEED the first seed (sequence i uses seed + i); a failure prints the
// sequence's seed, and the two together replay it alone.
#include <rocksdb/write_batch.h>

#include <functional>
#include <map>
#include <random>

#include "api/city_builder.h"
#include "ledger/domain.h"
#include "ledger/domain_state_codec.h"
#include "tests/domain_fixture.h"
#include "tests/memory_log_source.h"
#include "tests/projections/independent_books.h"

namespace fundledger::testing {
namespace {

constexpr int64_t kPaid = 80000;
constexpr int kStepsPerSequence = 24;
// Entries are posted from 2025-03-20 (China time), a few days apart, so a sequence's entries
// fall in two quarters and each report has an opening and a closing of its own.
constexpr int64_t kFirstPostMs = 1'742'400'000'000;
constexpr int64_t kPostSpacingMs = 3LL * 24 * 3600 * 1000;
const std::vector<std::string> kPeople{"B1", "B2"};
const std::vector<int32_t> kMonths{202503, 202504};

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* env = std::getenv(name);
  return env != nullptr ? std::strtoull(env, nullptr, 10) : fallback;
}

// A Domain staged as the log writer stages it, one submission per commit group, keeping the
// entries' bytes for a replay.
class MemoryLedger {
 public:
  MemoryLedger() : domain_({}, nullptr, 0) {}

  // The index of the submission's first entry, or why it was refused.
  Result<uint64_t> Submit(const Actor& actor, std::vector<DomainEvent> events) {
    Submission submission;
    for (const DomainEvent& e : events)
      submission.entries.push_back(
          NewEntry{actor.name, actor.role, EventTypeOf(e), EncodeEvent(e)});
    rocksdb::WriteBatch batch;
    const uint64_t first = log_.size();
    const int64_t at_ms = kFirstPostMs + static_cast<int64_t>(submissions_++) * kPostSpacingMs;
    Status staged = domain_.Stage(submission, first, at_ms, batch);
    domain_.Commit();  // a refused submission was rolled back by Stage itself
    if (!staged.ok()) return staged;
    for (const NewEntry& e : submission.entries)
      log_.Append(EncodeEntry(e, "", log_.size(), at_ms, Hash{}));
    return first;
  }
  Result<uint64_t> Submit(const Actor& actor, DomainEvent event) {
    return Submit(actor, std::vector<DomainEvent>{std::move(event)});
  }

  std::string Replayed() const {
    Domain replayed({}, nullptr, 0);
    ApplyContext context;
    replayed.BeginReplay();
    Status applied = log_.ScanEntries(1, log_.size(), [&](uint64_t i, ByteView bytes) {
      return replayed.ApplyCommitted(i, bytes, context);
    });
    Status ended = replayed.EndReplay(context);
    EXPECT_TRUE(applied.ok() && ended.ok()) << applied.ToString() << ended.ToString();
    return replayed.SaveState();
  }

  const Domain& domain() const { return domain_; }
  const MemoryLogSource& log() const { return log_; }

 private:
  Domain domain_;
  MemoryLogSource log_;  // entry 0 is its genesis
  uint64_t submissions_ = 0;
};

// What the test knows of the entries the domain accepted: nothing from the domain's state.
struct Line {
  std::string batch, person;
  uint32_t line_no = 0;
  int32_t month = 0;
  int64_t amount = 0;
};
struct Accepted {
  enum Kind { kOther, kPrepare, kApprove, kReject, kReturn, kReissue, kRecover, kReversal } kind;
  static constexpr const char* kNames[] = {"other",  "prepare", "approve",  "reject",
                                           "return", "reissue", "recovery", "reversal"};
  std::string batch;
  uint32_t line_no = 0;
  int64_t amount = 0;     // a recovery's
  uint64_t reverses = 0;  // a reversal's entry
};

class Model {
 public:
  void Prepared(const std::vector<Line>& lines) {
    for (const Line& l : lines) lines_[{l.batch, l.line_no}] = l;
  }
  void Add(uint64_t index, Accepted a) { entries_[index] = std::move(a); }
  const std::map<uint64_t, Accepted>& entries() const { return entries_; }
  const std::map<std::pair<std::string, uint32_t>, Line>& lines() const { return lines_; }

  // Checks the invariant from the entries alone; `received` reads the domain's account of a
  // person, to compare.
  void Check(const std::function<int64_t(const std::string&)>& received) const {
    using Key = std::pair<std::string, uint32_t>;
    std::map<Key, int64_t> paid, recovered;
    std::map<std::string, int> decided;  // batch -> +1 approved, -1 rejected
    auto effect = [&](const Accepted& a, int sign) {
      Key key{a.batch, a.line_no};
      auto line = lines_.find(key);
      if (a.kind == Accepted::kApprove && sign > 0) {
        decided[a.batch] = 1;
        for (const auto& [k, l] : lines_)
          if (l.batch == a.batch) paid[k] += l.amount;
      } else if (a.kind == Accepted::kReject) {
        decided[a.batch] = -1;
      } else if (a.kind == Accepted::kReturn && line != lines_.end()) {
        paid[key] -= sign * line->second.amount;
      } else if (a.kind == Accepted::kReissue && line != lines_.end()) {
        paid[key] += sign * line->second.amount;
      } else if (a.kind == Accepted::kRecover) {
        recovered[key] += sign * a.amount;
      }
    };
    for (const auto& [index, a] : entries_) {
      if (a.kind == Accepted::kReversal) {
        effect(entries_.at(a.reverses), -1);
      } else {
        effect(a, 1);
      }
    }
    std::map<std::pair<std::string, int32_t>, int> live;  // (person, month) -> lines paying it
    std::map<std::string, int64_t> net;                   // person -> received
    for (const auto& [key, l] : lines_) {
      int64_t p = paid[key], r = recovered[key];
      std::string name = l.batch + " line " + std::to_string(l.line_no);
      EXPECT_TRUE(p == 0 || p == l.amount) << name << " net paid " << p;
      EXPECT_TRUE(r >= 0 && r <= p) << name << " recovered " << r << " of " << p;
      bool pending = !decided.contains(l.batch);
      if (pending || p - r > 0) live[{l.person, l.month}]++;
      net[l.person] += p - r;
    }
    for (const auto& [slot, n] : live)
      EXPECT_LE(n, 1) << slot.first << " " << slot.second << " is paid by " << n << " lines";
    for (const std::string& person : kPeople) {
      EXPECT_GE(net[person], 0) << person;
      EXPECT_EQ(received(person), net[person]) << person << "'s account";
    }
  }

 private:
  std::map<uint64_t, Accepted> entries_;
  std::map<std::pair<std::string, uint32_t>, Line> lines_;
};

// One sequence: a fresh ledger, kStepsPerSequence random commands. Counts accepted commands
// by kind into `accepted`.
void RunSequence(uint64_t seed, std::map<std::string, int>& accepted) {
  std::mt19937_64 rng(seed);
  auto below = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  MemoryLedger ledger;
  const Actor maker{"clerk.li", fb::Role::maker}, checker{"checker.wang", fb::Role::checker},
      admin{"admin.zhao", fb::Role::admin};
  auto setup = [&](DomainEvent e) { ASSERT_TRUE(ledger.Submit(admin, std::move(e)).ok()); };
  setup(FundOpening({.id = "F", .programs = {"dibao"}}));
  setup(ProgramDefinition({.id = "dibao", .standard_fen = kPaid, .cap_fen = kPaid}));
  for (size_t i = 0; i < kPeople.size(); ++i) {
    fb::BeneficiaryRegisteredT r;
    r.beneficiary_id = kPeople[i];
    r.household_id = "H" + kPeople[i];
    r.region_code = "110105";
    r.id_commitment.assign(32, static_cast<uint8_t>(i + 1));
    r.birth_month = 196001;
    r.registered_date = 20250101;
    setup(r);
    setup(Enrolment(kPeople[i], "dibao", kPaid, 202501, "approval"));
  }
  setup(Appropriation("F", "general", 12 * kPaid, "treasury", "budget"));

  Model model;
  std::vector<std::string> batches;
  auto received = [&](const std::string& person) {
    return ledger.domain().Read([&](const DomainState& s) {
      const Balance* b = s.accounts.Get(BeneficiaryAccount(person));
      return b == nullptr ? int64_t{0} : b->posted_fen;
    });
  };
  for (int step = 0; step < kStepsPerSequence; ++step) {
    const Actor* actor = &maker;
    std::vector<DomainEvent> events;
    Accepted a{Accepted::kOther, "", 0, 0, 0};
    std::vector<Line> lines;
    std::string batch = batches.empty() ? "none" : batches[below(batches.size())];
    uint32_t line_no = 1 + static_cast<uint32_t>(below(2));
    size_t op = below(20);
    if (op < 4 || batches.empty()) {
      a = {Accepted::kPrepare, "R" + std::to_string(step)};
      int32_t month = kMonths[below(kMonths.size())];
      std::vector<RollLine> roll;
      for (uint32_t n = 1; n <= 1 + below(2); ++n) {
        lines.push_back({a.batch, kPeople[below(kPeople.size())], n, month, kPaid});
        roll.push_back({n, lines.back().person, "dibao", month, kPaid});
      }
      for (auto& chunk : PackBatch(a.batch, "F", "general", month, "roll", roll))
        events.emplace_back(std::move(chunk));
    } else if (op < 7) {
      a = {Accepted::kApprove, batch};
      actor = &checker;
      events.emplace_back(RollApproval(batch, "ok"));
    } else if (op < 8) {
      a = {Accepted::kReject, batch};
      actor = &checker;
      fb::DisbursementBatchRejectedT e;
      e.batch_id = batch;
      e.reason = "wrong";
      events.emplace_back(e);
    } else if (op < 10) {
      a = {Accepted::kReturn, batch, line_no};
      fb::PaymentReturnedT e;
      e.batch_id = batch;
      e.line_no = line_no;
      e.reason = "closed";
      events.emplace_back(e);
    } else if (op < 12) {
      // Half the time a line that was returned once (it may be paid again since).
      std::vector<const Accepted*> returns;
      for (const auto& [index, x] : model.entries())
        if (x.kind == Accepted::kReturn) returns.push_back(&x);
      if (!returns.empty() && below(2) == 0) {
        const Accepted* x = returns[below(returns.size())];
        batch = x->batch;
        line_no = x->line_no;
      }
      a = {Accepted::kReissue, batch, line_no};
      fb::PaymentReissuedT e;
      e.batch_id = batch;
      e.line_no = line_no;
      e.document = "again";
      events.emplace_back(e);
    } else if (op < 15) {
      const int64_t amounts[] = {kPaid, kPaid / 2, kPaid / 4, 3 * kPaid / 4, 2 * kPaid, 1};
      a = {Accepted::kRecover, batch, line_no, amounts[below(6)]};
      auto line = model.lines().find({batch, line_no});
      fb::RecoveredT e;
      e.beneficiary_id = line != model.lines().end() && below(8) != 0
                             ? line->second.person
                             : kPeople[below(kPeople.size())];
      e.fund_id = "F";
      e.bucket = "general";
      e.amount_fen = a.amount;
      e.cause = "overpaid";
      e.document = "decision";
      e.batch_id = below(10) == 0 ? "" : batch;
      e.line_no = line_no;
      events.emplace_back(e);
    } else {
      // Mostly a correction, sometimes any entry that went before.
      std::vector<uint64_t> corrections;
      for (const auto& [index, x] : model.entries()) {
        if (x.kind == Accepted::kReturn || x.kind == Accepted::kReissue ||
            x.kind == Accepted::kRecover)
          corrections.push_back(index);
      }
      uint64_t target = !corrections.empty() && below(5) != 0
                            ? corrections[below(corrections.size())]
                            : 1 + below(std::max<size_t>(model.entries().size() + 8, 1));
      a = {Accepted::kReversal, "", 0, 0, target};
      actor = &admin;
      fb::ReversalT e;
      e.entry_index = target;
      e.reason = "error";
      events.emplace_back(e);
    }
    Result<uint64_t> r = ledger.Submit(*actor, events);
    if (r.ok()) {
      if (a.kind == Accepted::kPrepare) {
        model.Prepared(lines);
        batches.push_back(a.batch);
      }
      if (a.kind == Accepted::kReversal && !model.entries().contains(a.reverses))
        a.kind = Accepted::kOther;  // a setup entry (the appropriation): no line moves
      std::string kind =
          a.kind == Accepted::kReversal
              ? std::string("reversal of ") + Accepted::kNames[model.entries().at(a.reverses).kind]
              : Accepted::kNames[a.kind];
      accepted[kind]++;
      model.Add(*r + events.size() - 1, a);
    }
    model.Check(received);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "after step " << step << " of the sequence of seed " << seed;
      return;
    }
  }
  EXPECT_TRUE(ledger.Replayed() == ledger.domain().SaveState())
      << "a replay of the sequence of seed " << seed << " gives another state";
  SCOPED_TRACE("the disclosures of the sequence of seed " + std::to_string(seed));
  Scopes scopes = ledger.domain().Read([](const DomainState& s) { return EveryScope(s); });
  EXPECT_EQ(ReconcileEveryReport(ledger.log(), scopes, {"2025", "2025-Q1", "2025-Q2"}), 6);
}

TEST(CorrectionsProperty, RandomCorrectionSequencesKeepThePaymentInvariant) {
  const uint64_t first = EnvOr("FUNDLEDGER_CORRECTION_SEED", 20260301);
  const uint64_t sequences = EnvOr("FUNDLEDGER_CORRECTION_SEQUENCES", 10'000);
  std::map<std::string, int> accepted;
  for (uint64_t i = 0; i < sequences; ++i) {
    RunSequence(first + i, accepted);
    if (::testing::Test::HasFailure()) FAIL() << "seed " << first + i;
  }
  std::cout << "corrections property: " << sequences << " sequences of " << kStepsPerSequence
            << " steps; accepted by kind:";
  for (const auto& [kind, n] : accepted) std::cout << " " << kind << "=" << n;
  std::cout << "\n";
  if (sequences < 1000) return;  // a replayed seed: too few to count on every kind
  // Every correction and the reversal of each were accepted many times: the sequences reach
  // the states the invariant is about.
  for (int kind = Accepted::kReturn; kind <= Accepted::kRecover; ++kind) {
    const std::string name = Accepted::kNames[kind];
    EXPECT_GT(accepted[name], 1000) << name;
    EXPECT_GT(accepted["reversal of " + name], 300) << name;
  }
}

}  // namespace
}  // namespace fundledger::testing
