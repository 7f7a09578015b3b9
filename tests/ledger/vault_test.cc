// Personal data never enters the log; erasing a person makes their data unreadable while every
// hash and proof still verifies and duplicate detection by commitment still works.
#include "replay/chain_verifier.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

class VaultTest : public LedgerFixture {};

bool Contains(const Bytes& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

TEST_F(VaultTest, NoEntryHoldsAnyPersonalField) {
  fb::BeneficiaryRegisteredT e;
  e.beneficiary_id = "B-7";
  e.household_id = "H-7";
  e.region_code = "440305";
  e.birth_month = 195503;
  e.registered_date = 20250102;
  PersonalData person{"李小红", MakeIdNumber("440305", 19550312, 42), "6217003810026789123",
                      "13912345678"};
  Ok(ledger_->RegisterBeneficiary(kMaker, "reg-7", e, person));
  EXPECT_EQ(ledger_->ReadPersonalData("B-7")->name, "李小红");
  EXPECT_EQ(ledger_->ReadPersonalData("B-7")->bank_account, "6217003810026789123");
  std::vector<std::string> secrets{person.name,
                                   person.id_number,
                                   person.bank_account,
                                   person.phone,
                                   person.id_number.substr(6, 8),
                                   person.bank_account.substr(8)};
  ASSERT_TRUE(ledger_->log()
                  .ScanEntries(0, ledger_->log().size(),
                               [&](uint64_t i, ByteView bytes) {
                                 Bytes b(bytes.begin(), bytes.end());
                                 for (const std::string& s : secrets)
                                   EXPECT_FALSE(Contains(b, s)) << "entry " << i << " holds " << s;
                                 return Status::Ok();
                               })
                  .ok());
  // Nor does the vault hold it in the clear.
  std::string raw;
  ASSERT_TRUE(ledger_->log()
                  .db()
                  ->Get(rocksdb::ReadOptions(), ledger_->log().vault_column(), "d/B-7", &raw)
                  .ok());
  EXPECT_EQ(raw.find(person.name), std::string::npos);
  EXPECT_EQ(raw.find(person.id_number), std::string::npos);
}

TEST_F(VaultTest, EraseMakesDataUnreadableAndTheLogStillVerifies) {
  Register("B1");
  std::string checkpoint_before = *ledger_->log().LatestCheckpoint();
  PersonalData before = *ledger_->ReadPersonalData("B1");
  Result<AppendResult> erased = ledger_->Erase(kAdmin, "erase-B1", "B1", "request 2025-118");
  Ok(erased);
  Result<PersonalData> after = ledger_->ReadPersonalData("B1");
  EXPECT_EQ(after.status().code(), StatusCode::kNotFound);
  VerifyReport report = VerifyChain(ledger_->log(), {});
  EXPECT_TRUE(report.valid) << report.reason;
  // The earlier checkpoint is still consistent with the log after erasure.
  Checkpoint old_cp = *OpenCheckpoint(checkpoint_before, ledger_->log().verifier());
  Checkpoint new_cp =
      *OpenCheckpoint(*ledger_->log().LatestCheckpoint(), ledger_->log().verifier());
  EXPECT_TRUE(VerifyConsistency(old_cp.size, new_cp.size, old_cp.root, new_cp.root,
                                *ledger_->log().ProveConsistency(old_cp.size, new_cp.size))
                  .ok());
  // Re-registering the same person under a new record is still caught by the commitment.
  fb::BeneficiaryRegisteredT e;
  e.beneficiary_id = "B1-NEW";
  e.household_id = "H";
  e.region_code = "110105";
  e.birth_month = 196001;
  e.registered_date = 20250301;
  Rejects(ledger_->RegisterBeneficiary(kMaker, "reg-again", e, before), "duplicate_person");
  // An erased person is paid no more.
  Rejects(ledger_->Erase(kAdmin, "erase-B1-again", "B1", "again"), "already_erased");
  ExpectInvariants();
}

}  // namespace
}  // namespace fundledger::testing
