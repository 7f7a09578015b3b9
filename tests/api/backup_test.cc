// `fundledger backup` and `restore` (api/cli_backup.h) end to end, and where the vault's master key
// lives (ledger/vault.h): a backup taken while the server posts restores into a ledger that
// verifies, matches its manifest and serves; a rolled-back, forked or altered backup is refused
// and the target left untouched; no backup holds the master key or a person's key.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/vault_rows_file.h"
#include "ledger/log_format.h"
#include "tests/http_client.h"
#include "tests/temp_dir.h"
#include "tests/test_util.h"

namespace fundledger {
namespace {

namespace fs = std::filesystem;
using testing::CliPath;
using testing::CommandResult;
using testing::HttpClient;
using testing::RawStore;
using testing::RunCommand;
using testing::ServerProcess;
using testing::TempDir;

constexpr int kPostsWhileBackingUpMax = 2000;

CommandResult Cli(const std::string& args) { return RunCommand(CliPath() + " " + args); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

uint64_t NoteSize(const std::string& note) {
  std::istringstream lines(note);
  std::string origin, size;
  std::getline(lines, origin);
  std::getline(lines, size);
  return std::stoull(size);
}

boost::json::object Manifest(const std::string& backup) {
  return boost::json::parse(ReadFile(backup + "/manifest.json")).as_object();
}

// The vault column's rows of the store in `dir`, counted by their prefix ("k/", "d/", "i/").
std::map<std::string, int> VaultRows(const std::string& dir) {
  RawStore store(dir);
  std::map<std::string, int> rows;
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(rocksdb::ReadOptions(), store.cf(kVaultColumn)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++rows[it->key().ToString().substr(0, 2)];
  return rows;
}

bool HoldsFileNamed(const std::string& dir, const std::string& name) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename() == name) return true;
  return false;
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("ledger");
    CommandResult demo = Cli("demo --people 12 --months 1 --data " + dir_);
    ASSERT_EQ(demo.exit_code, 0) << demo.out;
    admin_ = testing::DemoTokens(demo.out)["admin"];
    ASSERT_FALSE(admin_.empty()) << demo.out;
  }

  int Appropriate(HttpClient& client, const std::string& token, const std::string& key) const {
    return client
        .Command(testing::DemoSigner(dir_, "admin.zhao", fb::Role::admin),
                 fb::EventType::Appropriated, "/v1/appropriations", token,
                 R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":100,)"
                 R"("source":"treasury","document":"d"})",
                 key)
        .status;
  }
  // The demo's admin signs: the demo requires signed commands.
  std::string AdminKey() const {
    return " --actor admin.zhao --signing-key " + dir_ + ".keys/staff/admin.zhao.key";
  }

  // Appends a fund through the CLI (the server must be stopped).
  CommandResult OpenFund(const std::string& dir, const std::string& fund) {
    return Cli("post FundOpened --data " + dir + " --json '{\"fund_id\":\"" + fund +
               "\",\"name\":\"" + fund +
               "\",\"organisation\":\"bureau\",\"currency\":\"CNY\"}' --key " + fund +
               " --role admin" + AdminKey());
  }

  TempDir tmp_;
  std::string dir_, admin_;
};

TEST_F(BackupTest, ABackupTakenWhileServingRestoresVerifiedAgainstTheKeptCheckpoint) {
  const std::string backup = tmp_.Sub("backup"), restored = tmp_.Sub("restored");
  std::string kept;
  {
    ServerProcess server(dir_);
    ASSERT_GT(server.port(), 0);
    HttpClient client(server.port());
    for (int i = 0; i < 5; ++i)
      ASSERT_EQ(Appropriate(client, admin_, "a" + std::to_string(i)), 201);
    kept = client.Request("GET", "/v1/checkpoint").body;
    std::atomic<bool> stop{false};
    std::atomic<int> posted{0};
    std::atomic<bool> finished{false};
    std::thread poster([&] {
      HttpClient own(server.port());
      for (int i = 0; i < kPostsWhileBackingUpMax && !stop.load(); ++i) {
        if (Appropriate(own, admin_, "during-" + std::to_string(i)) == 201) ++posted;
      }
      finished = true;
    });
    // The backup starts mid-stream.
    while (posted.load() < 3 && !finished.load()) std::this_thread::yield();
    CommandResult b = Cli("backup --data " + dir_ + " --to " + backup);
    stop = true;
    poster.join();
    ASSERT_EQ(b.exit_code, 0) << b.out;
    EXPECT_NE(b.out.find("kept apart in " + dir_ + ".keys/vault-rows"), std::string::npos) << b.out;
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(Appropriate(client, admin_, "b" + std::to_string(i)), 201);
    EXPECT_EQ(server.Terminate(), 0);
  }
  const uint64_t size = Manifest(backup).at("size").as_int64();
  EXPECT_GE(size, NoteSize(kept) + 3);
  EXPECT_EQ(Manifest(backup).at("checkpoint_size").as_int64(), static_cast<int64_t>(size));

  // The operator brings back the key directory (master key and vault rows) beside the target.
  fs::copy(dir_ + ".keys", restored + ".keys", fs::copy_options::recursive);
  CommandResult r = Cli("restore --from " + backup + " --to " + restored + " --checkpoint " +
                        WriteFile(tmp_.Sub("kept.txt"), kept));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("consistent with the kept checkpoint"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vault rows restored"), std::string::npos) << r.out;
  CommandResult v = Cli("verify --data " + restored);
  EXPECT_EQ(v.exit_code, 0) << v.out;
  EXPECT_NE(v.out.find("valid: " + std::to_string(size) + " entries"), std::string::npos) << v.out;
  EXPECT_EQ(VaultRows(restored), VaultRows(dir_));  // every person's key and index row is back

  ServerProcess server(restored);
  ASSERT_GT(server.port(), 0);
  HttpClient client(server.port());
  EXPECT_EQ(NoteSize(client.Request("GET", "/v1/checkpoint").body), size);
  EXPECT_EQ(Appropriate(client, admin_, "after-restore"), 201);  // its tokens and vault key work
  EXPECT_EQ(server.Terminate(), 0);
}

// What a backup holds of people: the sealed records, never the master key, a person's key or
// the ID index; those are in the vault rows file beside the master key, which each backup
// replaces.
TEST_F(BackupTest, TheBackupHoldsNoVaultKeyAndNoPersonsKey) {
  const std::string backup = tmp_.Sub("backup");
  ASSERT_EQ(Cli("backup --data " + dir_ + " --to " + backup).exit_code, 0);
  std::map<std::string, int> live = VaultRows(dir_), copied = VaultRows(backup);
  ASSERT_GT(live["k/"], 0);
  ASSERT_GT(live["i/"], 0);
  EXPECT_EQ(copied["d/"], live["d/"]);
  EXPECT_EQ(copied.count("k/"), 0u);
  EXPECT_EQ(copied.count("i/"), 0u);
  EXPECT_FALSE(HoldsFileNamed(backup, "vault.key"));
  EXPECT_FALSE(HoldsFileNamed(backup, "vault-rows"));
  EXPECT_EQ(Manifest(backup).at("vault_rows_count").as_int64(), live["k/"] + live["i/"]);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + ".keys/vault-rows").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Erasing a person after a backup: the vault rows file loses their key and index row at once,
// so the old backup restores with their record still sealed under a key that exists nowhere.
TEST_F(BackupTest, AnErasureReachesBackupsTakenBeforeIt) {
  const std::string backup = tmp_.Sub("backup"), restored = tmp_.Sub("restored");
  ASSERT_EQ(Cli("backup --data " + dir_ + " --to " + backup).exit_code, 0);
  std::string subject;
  {
    RawStore store(dir_);
    std::unique_ptr<rocksdb::Iterator> it(
        store.db()->NewIterator(rocksdb::ReadOptions(), store.cf(kVaultColumn)));
    for (it->Seek("k/"); it->Valid() && subject.empty(); it->Next()) {
      std::string key = it->key().ToString();
      if (key.starts_with("k/") && key.find("donor:") == std::string::npos) subject = key.substr(2);
    }
  }
  ASSERT_FALSE(subject.empty());
  CommandResult erase =
      Cli("erase --beneficiary " + subject + " --reason request-17 --data " + dir_ + AdminKey());
  ASSERT_EQ(erase.exit_code, 0) << erase.out;

  Result<std::vector<std::pair<std::string, std::string>>> rows =
      ReadVaultRows(dir_ + ".keys/vault-rows");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  for (const auto& [key, value] : *rows) {
    EXPECT_NE(key, "k/" + subject);
    EXPECT_NE(value, subject) << key;
  }
  fs::copy(dir_ + ".keys", restored + ".keys", fs::copy_options::recursive);
  const std::string kept =
      WriteFile(tmp_.Sub("kept.txt"), Manifest(backup).at("checkpoint").as_string().c_str());
  CommandResult r = Cli("restore --from " + backup + " --to " + restored + " --checkpoint " + kept);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  RawStore store(restored);
  std::string value;
  EXPECT_TRUE(store.db()
                  ->Get(rocksdb::ReadOptions(), store.cf(kVaultColumn), "k/" + subject, &value)
                  .IsNotFound());
  EXPECT_TRUE(
      store.db()->Get(rocksdb::ReadOptions(), store.cf(kVaultColumn), "d/" + subject, &value).ok());
}

TEST_F(BackupTest, ARolledBackBackupIsRefusedAndTheTargetLeftAlone) {
  const std::string backup = tmp_.Sub("backup"), target = tmp_.Sub("target");
  ASSERT_EQ(Cli("backup --data " + dir_ + " --to " + backup).exit_code, 0);
  ASSERT_EQ(OpenFund(dir_, "F-LATER").exit_code, 0);
  CommandResult cp = Cli("checkpoint --data " + dir_);
  ASSERT_EQ(cp.exit_code, 0);
  const std::string kept = WriteFile(tmp_.Sub("kept.txt"), cp.out);
  const uint64_t backed_up = Manifest(backup).at("size").as_int64();

  CommandResult r = Cli("restore --from " + backup + " --to " + target + " --checkpoint " + kept);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("ROLLED BACK: its log holds " + std::to_string(backed_up) + " entries"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(target));
  for (const auto& e : fs::directory_iterator(tmp_.path()))
    EXPECT_EQ(e.path().string().find(".restoring-"), std::string::npos) << e.path();

  // Without a kept checkpoint restore refuses to start; into a non-empty directory too.
  EXPECT_EQ(Cli("restore --from " + backup + " --to " + target).exit_code, 2);
  fs::create_directories(target);
  WriteFile(target + "/keep-me", "x");
  CommandResult busy =
      Cli("restore --from " + backup + " --to " + target + " --checkpoint " +
          WriteFile(tmp_.Sub("old.txt"), Manifest(backup).at("checkpoint").as_string().c_str()));
  EXPECT_EQ(busy.exit_code, 2) << busy.out;
  EXPECT_NE(busy.out.find("is not empty"), std::string::npos) << busy.out;
  EXPECT_EQ(ReadFile(target + "/keep-me"), "x");
  EXPECT_FALSE(fs::exists(target + "/store"));
}

// Two histories signed by the same key from one copied ledger: the backup of one is refused
// against a checkpoint of the other.
TEST_F(BackupTest, AForkedBackupIsRefusedNamingTheRoots) {
  const std::string fork = tmp_.Sub("fork"), backup = tmp_.Sub("backup");
  fs::copy(dir_, fork, fs::copy_options::recursive);
  fs::copy(dir_ + ".keys", fork + ".keys", fs::copy_options::recursive);
  ASSERT_EQ(OpenFund(dir_, "F-HERE").exit_code, 0);
  ASSERT_EQ(OpenFund(fork, "F-THERE").exit_code, 0);
  ASSERT_EQ(OpenFund(fork, "F-THERE-TOO").exit_code, 0);
  const std::string kept = WriteFile(tmp_.Sub("kept.txt"), Cli("checkpoint --data " + dir_).out);
  ASSERT_EQ(Cli("backup --data " + fork + " --to " + backup).exit_code, 0);
  ASSERT_GT(static_cast<uint64_t>(Manifest(backup).at("size").as_int64()),
            NoteSize(ReadFile(kept)));

  CommandResult r =
      Cli("restore --from " + backup + " --to " + tmp_.Sub("target") + " --checkpoint " + kept);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("FORKED from the kept checkpoint: at size " +
                       std::to_string(NoteSize(ReadFile(kept)))),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(tmp_.Sub("target")));
}

TEST_F(BackupTest, ABackupWithAnAlteredEntryIsRefusedNamingIt) {
  const std::string backup = tmp_.Sub("backup");
  ASSERT_EQ(Cli("backup --data " + dir_ + " --to " + backup).exit_code, 0);
  const std::string kept = WriteFile(tmp_.Sub("kept.txt"), Cli("checkpoint --data " + dir_).out);
  {
    RawStore store(backup);
    std::string entry = store.GetEntry(3);
    entry[entry.size() / 2] ^= 1;
    store.PutEntry(3, entry);
  }
  CommandResult r =
      Cli("restore --from " + backup + " --to " + tmp_.Sub("target") + " --checkpoint " + kept);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("INVALID at entry 3"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp_.Sub("target")));
}

TEST(VaultKeyLocation, ANewLedgerKeepsItsMasterKeyOutsideTheDataDirectory) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  CommandResult init = Cli("init --origin keys.fundledger.local --data " + dir);
  ASSERT_EQ(init.exit_code, 0) << init.out;
  EXPECT_FALSE(HoldsFileNamed(dir, "vault.key"));
  struct stat st {};
  ASSERT_EQ(::stat((dir + ".keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir + ".keys/vault.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // $FUNDLEDGER_VAULT_KEY names it elsewhere; a copy of the directory without it cannot write.
  const std::string elsewhere = tmp.Sub("elsewhere");
  ASSERT_EQ(RunCommand("FUNDLEDGER_VAULT_KEY=" + tmp.Sub("k.key") + " " + CliPath() +
                       " init --origin env.fundledger.local --data " + elsewhere)
                .exit_code,
            0);
  EXPECT_TRUE(fs::exists(tmp.Sub("k.key")));
  EXPECT_FALSE(fs::exists(elsewhere + ".keys"));
  CommandResult without =
      Cli("post FundOpened --data " + elsewhere +
          " --json '{\"fund_id\":\"F1\",\"name\":\"F1\",\"organisation\":"
          "\"bureau\",\"currency\":\"CNY\"}' --key f1 --actor admin --role admin");
  EXPECT_NE(without.exit_code, 0);
  EXPECT_NE(without.out.find("no vault key at " + elsewhere + ".keys/vault.key"), std::string::npos)
      << without.out;
}

// A ledger from before: DIR/vault.key is still found, serve warns about it, and a backup of it
// still leaves the key out.
TEST(VaultKeyLocation, AnOlderLedgerWithItsKeyInsideStillOpensAndServeWarns) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  ASSERT_EQ(Cli("init --origin old.fundledger.local --data " + dir).exit_code, 0);
  fs::rename(dir + ".keys/vault.key", dir + "/vault.key");
  fs::remove(dir + ".keys");
  CommandResult post = Cli("post FundOpened --data " + dir +
                           " --json '{\"fund_id\":\"F1\",\"name\":\"F1\",\"organisation\":"
                           "\"bureau\",\"currency\":\"CNY\"}' --key f1 --actor admin --role admin");
  ASSERT_EQ(post.exit_code, 0) << post.out;
  EXPECT_FALSE(fs::exists(dir + ".keys/vault.key"));  // no second key was made
  {
    ServerProcess server(dir);
    ASSERT_GT(server.port(), 0);
    std::string output;
    EXPECT_EQ(server.Terminate(&output), 0);
    EXPECT_NE(output.find("warning: the vault master key " + dir +
                          "/vault.key is inside the data directory"),
              std::string::npos)
        << output;
  }
  const std::string backup = tmp.Sub("backup");
  CommandResult b = Cli("backup --data " + dir + " --to " + backup);
  ASSERT_EQ(b.exit_code, 0) << b.out;
  EXPECT_FALSE(HoldsFileNamed(backup, "vault.key"));
  EXPECT_TRUE(fs::exists(dir + ".keys/vault-rows"));
}

}  // namespace
}  // namespace fundledger
