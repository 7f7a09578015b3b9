// An actor is one person whatever the case or surrounding spaces of the name a caller gives:
// the ledger stores the normalised name, maker/checker compares people, not spellings, and a
// name outside the documented characters never reaches the log.
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

class ActorIdentity : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    OpenFund("F-SUB", fb::FundKind::subsidy, {"dibao"});
    Appropriate("F-SUB", "general", 10'000'000);
    Register("B1");
    Enroll("B1", "dibao", 104500);
    Ok(Prepare("R1", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  }
  static fb::DisbursementBatchRejectedT Rejection(const std::string& batch) {
    fb::DisbursementBatchRejectedT r;
    r.batch_id = batch;
    r.reason = "wrong month";
    return r;
  }
  std::string StoredActor(uint64_t index) {
    std::string actor;
    EXPECT_TRUE(ledger_->log()
                    .ScanEntries(index, index + 1,
                                 [&](uint64_t, ByteView bytes) {
                                   FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
                                   actor = std::string(e.actor);
                                   return Status::Ok();
                                 })
                    .ok());
    return actor;
  }
};

TEST_F(ActorIdentity, ThePreparerCannotRejectTheirOwnBatch) {
  Rejects(Do(Rejection("R1"), Actor{kMaker.name, fb::Role::checker}), "same_maker_checker");
  Ok(Do(Rejection("R1"), kChecker));
}

TEST_F(ActorIdentity, ThePreparerIsTheSamePersonWhateverTheCaseOfTheName) {
  for (const char* name : {"CLERK.LI", "Clerk.Li", "  clerk.li\t"}) {
    Rejects(Approve("R1", Actor{name, fb::Role::checker}), "same_maker_checker");
    Rejects(Do(Rejection("R1"), Actor{name, fb::Role::checker}), "same_maker_checker");
  }
  Ok(Approve("R1", Actor{"Checker.Wang", fb::Role::checker}));
}

TEST_F(ActorIdentity, EntriesKeepTheNormalisedName) {
  Result<AppendResult> r = Do(Appropriation("F-SUB", "general", 100, "treasury", "d"),
                              Actor{" Admin.ZHAO ", fb::Role::admin});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(StoredActor(r->first_index), "admin.zhao");
}

TEST_F(ActorIdentity, ANameOutsideTheDocumentedCharactersIsRefused) {
  uint64_t size = ledger_->log().size();
  for (const char* name :
       {"", "   ", "clerk li", "clerk/li", "clerk:li", "张三", "clerk\nli", "clerk+li"}) {
    Result<AppendResult> r =
        Do(Appropriation("F-SUB", "general", 100, "treasury", "d"), Actor{name, fb::Role::admin});
    ASSERT_FALSE(r.ok()) << "'" << name << "' was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_EQ(r.status().field(), "actor") << r.status().ToString();
  }
  Submission raw = MemoSubmission("k", {"note"});
  raw.entries[0].actor = "Clerk.Li";  // the log takes only normalised names
  EXPECT_EQ(ledger_->log().Append(raw).status().field(), "actor");
  EXPECT_EQ(ledger_->log().size(), size);
}

}  // namespace
}  // namespace fundledger::testing
