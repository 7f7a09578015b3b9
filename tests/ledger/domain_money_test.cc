// Money that does not add up. A log imported from elsewhere (written straight to the log, no
// rules applied) may hold amounts whose sums overflow 64 bits: replaying it stops with a
// Corruption naming the entry, never a wrapped balance. An observer (a read model) that cannot
// add an entry up says so (EntryObserver::failure): the domain refuses the submission as an
// `amount_overflow`, or stops the replay with the observer's Corruption. Postings that do not
// sum to zero stop the program; a fund an imported history left below zero does not.
#include <cstdint>
#include <limits>

#include "ledger/domain_apply.h"
#include "replay/rebuild.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

constexpr int64_t kFenMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kFenMin = std::numeric_limits<int64_t>::min();

fb::AppropriatedT Appropriation(const std::string& fund, int64_t fen) {
  fb::AppropriatedT a;
  a.fund_id = fund;
  a.bucket = "general";
  a.amount_fen = fen;
  a.source = "treasury";
  a.document = "d";
  return a;
}

fb::ExpensedT Expensing(const std::string& fund, int64_t fen) {
  fb::ExpensedT x;
  x.fund_id = fund;
  x.bucket = "general";
  x.payee = "p";
  x.purpose = "dibao";  // a subsidy fund spends on its programs
  x.amount_fen = fen;
  x.document = "inv";
  return x;
}

class ImportedOverflow : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::move(Log::Create(tmp_.Sub("imported"), "imported.local", {})).value();
    fb::FundOpenedT f;
    f.fund_id = "F";
    f.name = "F";
    f.organisation = "org";
    f.currency = "CNY";
    f.programs = {"dibao"};
    Raw(f);
  }
  // Appends straight to the log: no domain, no rules; returns the entry's index.
  uint64_t Raw(DomainEvent e) {
    Submission s;
    s.entries.push_back(NewEntry{"importer", fb::Role::admin, EventTypeOf(e), EncodeEvent(e)});
    Result<AppendResult> r = log_->Append(std::move(s));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->first_index : 0;
  }
  uint64_t Money(int64_t fen) { return Raw(Appropriation("F", fen)); }
  // Replays the whole log into a fresh domain and projections, as an open does.
  Status Replay() {
    Projections projections;
    Domain domain({&projections});
    return domain.Replay(*log_);
  }
  void ExpectCorruptionAt(uint64_t index) {
    Status replayed = Replay();
    EXPECT_EQ(replayed.code(), StatusCode::kCorruption) << replayed.ToString();
    EXPECT_NE(replayed.message().find("entry " + std::to_string(index)), std::string::npos)
        << replayed.message();
    RebuildReport rebuilt = RebuildProjections(*log_, {});
    EXPECT_FALSE(rebuilt.verify.valid);
    EXPECT_EQ(rebuilt.verify.bad_index, index) << rebuilt.verify.reason;
  }

  TempDir tmp_;
  std::unique_ptr<Log> log_;
};

TEST_F(ImportedOverflow, AFundBalanceThatOverflowsStopsTheReplayAtItsEntry) {
  Money(kFenMax - 5);
  EXPECT_TRUE(Replay().ok());
  uint64_t bad = Money(6);
  Money(1);
  ExpectCorruptionAt(bad);
}

TEST_F(ImportedOverflow, ABatchTotalThatOverflowsStopsTheReplayAtItsEntry) {
  Money(1000);
  std::vector<RollLine> lines = {{1, "B1", "dibao", 202503, kFenMax / 2 + 1},
                                 {2, "B2", "dibao", 202503, kFenMax / 2 + 1}};
  uint64_t bad = 0;
  for (auto& chunk : PackBatch("R1", "F", "general", 202503, "roll", lines)) bad = Raw(chunk);
  ExpectCorruptionAt(bad);
}

// The one amount whose negation does not fit: moving it out of an account.
TEST_F(ImportedOverflow, AnAmountThatCannotBeNegatedStopsTheReplayAtItsEntry) {
  uint64_t bad = Raw(Expensing("F", kFenMin));
  ExpectCorruptionAt(bad);
}

// A return of a line no roll ever prepared cannot be applied: named, not a crash.
TEST_F(ImportedOverflow, ACorrectionOfALineThatDoesNotExistStopsTheReplayAtItsEntry) {
  fb::PaymentReturnedT ret;
  ret.batch_id = "R9";
  ret.line_no = 3;
  ret.reason = "closed";
  uint64_t bad = Raw(ret);
  ExpectCorruptionAt(bad);
  EXPECT_NE(Replay().message().find("batch 'R9' does not exist"), std::string::npos);
}

// A read model that cannot add up an entry whose amount is `poison_fen`: it reports the first
// such entry as a Corruption, and clears the report when the entry is rolled back.
class FailingObserver final : public EntryObserver {
 public:
  explicit FailingObserver(int64_t poison_fen) : poison_fen_(poison_fen) {}
  void OnApplied(const AppliedEntry& entry, ApplyContext& context) override {
    last_index_ = entry.index;
    ++seen_;
    bool poisoned =
        std::any_of(entry.postings.begin(), entry.postings.end(),
                    [&](const Posting& p) { return p.posted_delta_fen == poison_fen_; });
    if (!poisoned || !failure_.ok()) return;
    failure_ = Corruption("entry " + std::to_string(entry.index) + ": a total would overflow");
    if (context.undo != nullptr) context.undo->Push([this] { failure_ = Status::Ok(); });
  }
  Status failure() const override { return failure_; }

  uint64_t last_index_ = 0;
  uint64_t seen_ = 0;

 private:
  int64_t poison_fen_;
  Status failure_;
};

TEST_F(ImportedOverflow, AnObserverThatCannotApplyAnEntryStopsTheReplayWithItsCorruption) {
  uint64_t poisoned = Money(777);
  Submission more;  // more entries than the replay feeds ahead of the observers
  for (int i = 0; i < 3000; ++i) {
    DomainEvent e = Appropriation("F", 1);
    more.entries.push_back(NewEntry{"importer", fb::Role::admin, EventTypeOf(e), EncodeEvent(e)});
  }
  ASSERT_TRUE(log_->Append(std::move(more)).ok());
  FailingObserver observer(777);
  Domain domain({&observer});
  Status replayed = domain.Replay(*log_);
  EXPECT_EQ(replayed.code(), StatusCode::kCorruption) << replayed.ToString();
  EXPECT_NE(replayed.message().find("entry " + std::to_string(poisoned)), std::string::npos)
      << replayed.message();
  EXPECT_EQ(observer.last_index_, poisoned) << "fed past the entry it could not apply";

  // Entry by entry, outside a replay (as the audit checks walk a log): the same entry.
  FailingObserver walked(777);
  Domain walker({&walked});
  ApplyContext context;
  Status status = log_->ScanEntries(0, log_->size(), [&](uint64_t i, ByteView bytes) {
    return walker.ApplyCommitted(i, bytes, context);
  });
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_EQ(walked.last_index_, poisoned);
}

class ObserverOverflow : public LedgerFixture {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("ledger");
    projections_ = std::make_unique<Projections>();
    LedgerOptions options;
    options.observers.push_back(&observer_);
    Result<std::unique_ptr<Ledger>> l =
        Ledger::Create(dir_, "city.fundledger.local", WithProjections(*projections_, options));
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    OpenFund("F-SUB", fb::FundKind::subsidy, {"dibao"});
  }
  static fb::AppropriatedT Money(int64_t fen) { return Appropriation("F-SUB", fen); }

  FailingObserver observer_{777};
};

TEST_F(ObserverOverflow, AStagedSubmissionAnObserverCannotApplyIsRefusedWhole) {
  Ok(Do(Money(1000)));
  uint64_t size = ledger_->log().size();
  std::string before = ledger_->domain().SaveState();
  Result<AppendResult> r = Do({Money(5), Money(777), Money(9)});
  Rejects(r, "amount_overflow");
  EXPECT_EQ(r.status().line(), 2u);
  EXPECT_EQ(ledger_->log().size(), size);
  EXPECT_TRUE(ledger_->domain().SaveState() == before) << "a refused submission changed state";
  EXPECT_TRUE(observer_.failure().ok()) << "the failure was not rolled back with its entry";
  Ok(Do(Money(5)));
  EXPECT_EQ(FundBalance("F-SUB", "general").posted_fen, 1005);
  ExpectInvariants();
}

// Double entry is an invariant of the application, not a property of the input: a violation
// stops the program (it would otherwise be written and signed).
TEST(PostingsBalance, SumsCheckedAndStopsTheProgramWhenTheySumToAnythingButZero) {
  AppliedEntry balanced;
  balanced.postings = {{"ext/treasury", -500, 0}, {"fund/F/general", 500, 0}, {"fund/F/x", 0, 9}};
  EXPECT_TRUE(CheckPostingsBalance(balanced).ok());
  AppliedEntry huge;
  huge.postings = {{"ben/B1", kFenMax, 0}, {"ben/B2", kFenMax, 0}};
  EXPECT_EQ(CheckPostingsBalance(huge).rule(), "amount_overflow");
  AppliedEntry lopsided;
  lopsided.index = 41;
  lopsided.postings = {{"ext/treasury", -500, 0}, {"fund/F/general", 499, 0}};
  EXPECT_DEATH((void)CheckPostingsBalance(lopsided), "postings of entry 41 sum to -0.01 yuan");
}

// A fund an imported history took below zero stays open for rule-checked postings: the check
// after staging stops the program only when a submission takes a fund from zero or above to
// below it.
class ImportedHistory : public LedgerFixture {};

TEST_F(ImportedHistory, AFundAnImportedLogLeftBelowZeroStillTakesMoneyIn) {
  OpenFund("F-SUB", fb::FundKind::subsidy, {"dibao"});
  ASSERT_TRUE(ledger_->Close().ok());
  ledger_.reset();
  {
    std::unique_ptr<Log> log = std::move(Log::Open(dir_, {})).value();
    fb::ExpensedT x = Expensing("F-SUB", 100);
    Submission raw;
    raw.entries.push_back(NewEntry{"importer", fb::Role::admin, EventTypeOf(x), EncodeEvent(x)});
    ASSERT_TRUE(log->Append(std::move(raw)).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  // Opened without the projections, which the raw append did not write.
  ledger_ = std::move(Ledger::Open(dir_, {})).value();
  auto posted = [&] {
    return ledger_->domain().Read([](const DomainState& s) {
      return s.BalanceOf(FundAccount("F-SUB", "general")).posted_fen;
    });
  };
  EXPECT_EQ(posted(), -100);
  Appropriate("F-SUB", "general", 40);
  EXPECT_EQ(posted(), -60);
  Rejects(Expense("F-SUB", "general", "dibao", 10), "insufficient_funds");
}

}  // namespace
}  // namespace fundledger::testing
