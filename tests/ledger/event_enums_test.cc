// An enum number the schema does not name never enters the log: a submission carrying one is
// invalid_argument naming the field, whichever way it reaches the log; and a stored entry
// carrying one (an imported or altered log) is named by verification and stops a replay.
#include "replay/chain_verifier.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

template <typename E>
E Unnamed(unsigned number) {
  return static_cast<E>(number);
}

// One event per enum field of entry.fbs, each with an out-of-range number, and the field named.
std::vector<std::pair<DomainEvent, std::string>> EventsWithUnnamedEnums() {
  std::vector<std::pair<DomainEvent, std::string>> out;
  fb::FundOpenedT fund = FundOpening({.id = "F-X", .kind = Unnamed<fb::FundKind>(77)});
  out.emplace_back(fund, "kind");
  fb::ProgramDefinedT program = ProgramDefinition({.id = "P-X",
                                                   .category = Unnamed<fb::ProgramCategory>(55),
                                                   .standard_fen = 100,
                                                   .cap_fen = 100});
  out.emplace_back(program, "category");
  program.category = fb::ProgramCategory::dibao;
  program.period = Unnamed<fb::PaymentPeriod>(2);
  out.emplace_back(program, "period");
  fb::BeneficiaryRegisteredT person;
  person.beneficiary_id = "B-X";
  person.household_id = "H-X";
  person.region_code = "110105";
  person.id_commitment.assign(32, 7);
  person.birth_month = 196001;
  person.registered_date = 20250101;
  person.payee_role = Unnamed<fb::PayeeRole>(42);
  out.emplace_back(person, "payee_role");
  fb::BeneficiaryChangedT change;
  change.beneficiary_id = "B-X";
  change.effective_date = 20250101;
  change.reason = "r";
  change.status = Unnamed<fb::BeneficiaryStatus>(99);
  out.emplace_back(change, "status");
  out.emplace_back(Expenditure({.fund = "F-X",
                                .payee = "supplier",
                                .expense_class = Unnamed<fb::ExpenseClass>(99),
                                .purpose = "general",
                                .amount_fen = 100,
                                .document = "inv"}),
                   "class");
  return out;
}

class EventEnums : public LedgerFixture {};

TEST_F(EventEnums, EveryUnnamedEnumNumberIsRefusedNamingItsField) {
  uint64_t size = ledger_->log().size();
  for (auto& [event, field] : EventsWithUnnamedEnums()) {
    Result<AppendResult> r = Do(event, kAdmin);
    ASSERT_FALSE(r.ok()) << field << " was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_EQ(r.status().field(), field) << r.status().ToString();
    EXPECT_NE(r.status().message().find("must be one of"), std::string::npos);
  }
  EXPECT_EQ(ledger_->log().size(), size);
}

TEST_F(EventEnums, AppendingStraightToTheLogRefusesThemToo) {
  uint64_t size = ledger_->log().size();
  for (auto& [event, field] : EventsWithUnnamedEnums()) {
    Submission s;
    s.entries.push_back(
        NewEntry{"importer", fb::Role::admin, EventTypeOf(event), EncodeEvent(event)});
    Result<AppendResult> r = ledger_->log().Append(std::move(s));
    ASSERT_FALSE(r.ok()) << field << " was appended";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_EQ(r.status().field(), field) << r.status().ToString();
  }
  EXPECT_EQ(ledger_->log().size(), size);
}

TEST_F(EventEnums, AnUnnamedRoleIsRefused) {
  Result<AppendResult> r = Do(Appropriation("F-X", "general", 100, "treasury", "d"),
                              Actor{"admin.zhao", Unnamed<fb::Role>(42)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(r.status().field(), "role");
}

// The last entry of a store is replaced by one with expense class 99, re-encoded at its index,
// time and chain position (as an importer that skipped the checks would have written it).
TEST_F(EventEnums, AStoredEntryWithAnUnnamedEnumIsNamedByVerifyAndStopsReplay) {
  OpenFund("F-SUB", fb::FundKind::charity, {});
  Appropriate("F-SUB", "general", 10'000);
  ASSERT_TRUE(Expense("F-SUB", "general", "general", 100).ok());
  uint64_t last = ledger_->log().size() - 1;
  ASSERT_TRUE(ledger_->Close().ok());
  ledger_.reset();
  {
    RawStore raw(dir_);
    std::string stored = raw.GetEntry(last);
    Bytes bytes(stored.begin(), stored.end());
    Result<EntryView> e = DecodeEntry(bytes);
    ASSERT_TRUE(e.ok());
    Result<DomainEvent> event = DecodeEvent(e->event_type, e->payload);
    ASSERT_TRUE(event.ok());
    std::get<fb::ExpensedT>(*event).class_ = Unnamed<fb::ExpenseClass>(99);
    NewEntry altered{std::string(e->actor), e->role, e->event_type, EncodeEvent(*event)};
    Bytes rewritten =
        EncodeEntry(altered, e->idempotency_key, e->index, e->timestamp_ms, e->prev_leaf_hash);
    raw.PutEntry(last, std::string(rewritten.begin(), rewritten.end()));
  }
  LogOptions ro;
  ro.read_only = true;
  ro.check_tail_on_open = false;
  {
    Result<std::unique_ptr<Log>> log = Log::Open(dir_, ro);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    VerifyReport report = VerifyChain(**log, {});
    EXPECT_FALSE(report.valid);
    EXPECT_EQ(report.bad_index, last) << report.reason;
    EXPECT_NE(report.reason.find("class must be one of"), std::string::npos) << report.reason;
  }
  LedgerOptions options;
  options.log = ro;
  Result<std::unique_ptr<Ledger>> replayed = Ledger::Open(dir_, options);
  ASSERT_FALSE(replayed.ok());
  EXPECT_EQ(replayed.status().code(), StatusCode::kCorruption);
  EXPECT_NE(replayed.status().message().find("entry " + std::to_string(last)), std::string::npos)
      << replayed.status().ToString();
}

}  // namespace
}  // namespace fundledger::testing
