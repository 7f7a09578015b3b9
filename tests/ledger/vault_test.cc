// Personal data never enters the log; erasing a person makes their data unreadable while every
// hash and proof still verifies, leaves nothing against which anyone (the master key's holder
// included) can test a guess of their ID number, and duplicate detection still works for the
// people who remain.
#include <filesystem>
#include <fstream>

#include "crypto/aead.h"
#include "crypto/encoding.h"
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
  // A replay from the log alone rebuilds the same state.
  Reopen();
  EXPECT_EQ(ledger_->ReadPersonalData("B1").status().code(), StatusCode::kNotFound);
  // An erased person is paid no more.
  Rejects(ledger_->Erase(kAdmin, "erase-B1-again", "B1", "again"), "already_erased");
  ExpectInvariants();
}

fb::BeneficiaryRegisteredT Registration(const std::string& ben, const std::string& region) {
  fb::BeneficiaryRegisteredT e;
  e.beneficiary_id = ben;
  e.household_id = "H-" + ben;
  e.region_code = region;
  e.registered_date = 20250102;
  return e;
}

Bytes ReadAll(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Issue 17 #5: what a holder of the master key and of every file of the store (the log, the
// vault column, a backup of the directory) can compute from a guess of an erased person's ID
// number, here the right guess, matches nothing they hold.
TEST_F(VaultTest, AKeyHolderCannotConfirmAnErasedPersonsIdNumber) {
  const std::string id_number = MakeIdNumber("440305", 19550312, 42);
  Ok(ledger_->RegisterBeneficiary(kMaker, "reg-7", Registration("B-7", "440305"),
                                  {"李小红", id_number, "6217003810026789123", "13912345678"}));
  Register("B-8");  // someone who stays
  Ok(ledger_->Erase(kAdmin, "erase-7", "B-7", "request 2025-118"));
  Reopen();  // what is on disk, as a backup of the directory would hold it

  // Every value a key holder can derive from the guess: keyed hashes under each key the
  // master secret derives (the ID lookup key, the former commitment key), raw and in hex.
  Bytes master = *HexDecode(std::string(AsChars(ReadAll(dir_ + "/vault.key"))).substr(0, 64));
  std::vector<Hash> derived{ledger_->vault().IdLookup(id_number)};
  for (const char* purpose : {"fundledger commitment v1", "fundledger id lookup v2"}) {
    Hash key = HmacSha256(master, AsBytes(purpose));
    derived.push_back(HmacSha256(key, AsBytes("id:" + id_number)));
  }
  std::vector<std::string> needles{id_number};
  for (const Hash& h : derived) {
    needles.emplace_back(AsChars(ByteView(h.data(), h.size())));
    needles.push_back(HexEncode(h));
  }
  ASSERT_TRUE(ledger_->log()
                  .ScanEntries(0, ledger_->log().size(),
                               [&](uint64_t i, ByteView bytes) {
                                 Bytes b(bytes.begin(), bytes.end());
                                 for (const std::string& needle : needles)
                                   EXPECT_FALSE(Contains(b, needle)) << "entry " << i;
                                 return Status::Ok();
                               })
                  .ok());
  for (const auto& file : std::filesystem::recursive_directory_iterator(dir_)) {
    if (!file.is_regular_file()) continue;
    Bytes bytes = ReadAll(file.path());
    for (const std::string& needle : needles)
      EXPECT_FALSE(Contains(bytes, needle)) << file.path() << " confirms the guess";
  }
  // The log's commitment for B-7 is salted, and the salt went with the vault record.
  EXPECT_EQ(ledger_->ReadPersonalData("B-7").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(ledger_->vault().FindPerson(ledger_->log(), id_number)->has_value());
  // The log still verifies from its own bytes.
  VerifyReport report = VerifyChain(ledger_->log(), {});
  EXPECT_TRUE(report.valid) << report.reason;
}

// The same ID number registered in another district is refused while its holder is not
// erased: across calls, within one call, and after a restart.
TEST_F(VaultTest, AnIdNumberIsRefusedAcrossDistrictsWhileItsHolderRemains) {
  const std::string id_number = MakeIdNumber("110105", 19600101, 7);
  PersonalData person{"王五", id_number, "", ""};
  Ok(ledger_->RegisterBeneficiary(kMaker, "reg-a", Registration("A-1", "110105"), person));
  Result<AppendResult> again =
      ledger_->RegisterBeneficiary(kMaker, "reg-b", Registration("B-1", "440305"), person);
  Rejects(again, "duplicate_person");
  EXPECT_NE(again.status().message().find("'A-1'"), std::string::npos) << again.status().ToString();
  Reopen();
  Rejects(ledger_->RegisterBeneficiary(kMaker, "reg-c", Registration("C-1", "310101"), person),
          "duplicate_person");
  PersonalData other{"赵六", MakeIdNumber("310101", 19700505, 9), "", ""};
  std::vector<std::pair<fb::BeneficiaryRegisteredT, PersonalData>> two;
  two.emplace_back(Registration("D-1", "310101"), other);
  two.emplace_back(Registration("D-2", "320102"), other);
  Result<AppendResult> both = ledger_->RegisterBeneficiaries(kMaker, "reg-d", std::move(two));
  Rejects(both, "duplicate_person");
  EXPECT_EQ(both.status().line(), 2u);
}

// Erasure forgets the number: registering the same person again makes a new person (what
// ledger/README.md says), who is then protected against duplicates like anyone else.
TEST_F(VaultTest, AnErasedPersonRegisteredAgainIsANewPerson) {
  const std::string id_number = MakeIdNumber("110105", 19600101, 8);
  PersonalData person{"钱七", id_number, "", ""};
  Ok(ledger_->RegisterBeneficiary(kMaker, "reg-1", Registration("E-1", "110105"), person));
  Ok(ledger_->Erase(kAdmin, "erase-1", "E-1", "request"));
  Ok(ledger_->RegisterBeneficiary(kMaker, "reg-2", Registration("E-2", "440305"), person));
  EXPECT_EQ(ledger_->ReadPersonalData("E-2")->id_number, id_number);
  EXPECT_EQ(*ledger_->vault().FindPerson(ledger_->log(), id_number), "E-2");
  Rejects(ledger_->RegisterBeneficiary(kMaker, "reg-3", Registration("E-3", "110105"), person),
          "duplicate_person");
  // The erased id itself stays taken: the log keeps it.
  Rejects(ledger_->RegisterBeneficiary(kMaker, "reg-4", Registration("E-1", "110105"),
                                       {"钱七", MakeIdNumber("110105", 19600101, 9), "", ""}),
          "duplicate_id");
}

}  // namespace
}  // namespace fundledger::testing
