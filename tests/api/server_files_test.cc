// What the server and the CLI keep beside the store: the token table changed by concurrent
// processes without losing a revocation, everything created private whatever the umask, and a
// server that refuses to start on files or directories another user could change.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "api/tokens.h"
#include "tests/domain_fixture.h"
#include "tests/http_client.h"

namespace fundledger::testing {
namespace {

namespace fs = std::filesystem;

// The token printed by `token add` ("token maker clerk.li fl_...").
std::string TokenFrom(const std::string& out) {
  size_t at = out.find(" fl_");
  return at == std::string::npos ? "" : out.substr(at + 1, 67);
}

// Every directory and file under `root` (itself included) whose mode is not 0700 / 0600.
std::vector<std::string> NotPrivate(const std::string& root) {
  std::vector<std::string> wrong;
  auto check = [&](const fs::path& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return;
    mode_t want = S_ISDIR(st.st_mode) ? 0700 : 0600;
    if ((st.st_mode & 0777) != want) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 0777);
      wrong.push_back(p.string() + " " + mode);
    }
  };
  check(root);
  for (const auto& e : fs::recursive_directory_iterator(root)) check(e.path());
  return wrong;
}

TEST(ServerFiles, ARevokedTokenNeverWorksAgainWhateverRunsBesideIt) {
  TempDir tmp;
  std::string dir = tmp.Sub("ledger");
  ASSERT_EQ(RunCommand(CliPath() + " init --data " + dir + " --origin files.test").exit_code, 0);
  constexpr int kRaces = 40;
  constexpr int kAddsPerRace = 3;
  std::vector<std::string> revoked;
  for (int i = 0; i < kRaces; ++i) {
    CommandResult add = RunCommand(CliPath() + " token add --data " + dir +
                                   " --role maker --actor victim." + std::to_string(i));
    ASSERT_EQ(add.exit_code, 0) << add.out;
    revoked.push_back(TokenFrom(add.out));
  }
  // Each race: one `token revoke` and three `token add` processes started together.
  std::vector<std::string> added;
  for (int i = 0; i < kRaces; ++i) {
    std::string script = CliPath() + " token revoke --data " + dir + " victim." +
                         std::to_string(i) + " >/dev/null &";
    for (int a = 0; a < kAddsPerRace; ++a) {
      script += CliPath() + " token add --data " + dir + " --role checker --actor other." +
                std::to_string(i) + "." + std::to_string(a) + " &";
    }
    CommandResult race = RunCommand("(" + script + " wait)");
    for (size_t at = race.out.find(" fl_"); at != std::string::npos;
         at = race.out.find(" fl_", at + 1)) {
      added.push_back(race.out.substr(at + 1, 67));
    }
  }
  ASSERT_EQ(added.size(), static_cast<size_t>(kRaces * kAddsPerRace));
  TokenStore store(dir);
  int working_after_revoke = 0;
  for (const std::string& token : revoked) {
    Result<Principal> who = store.Authenticate("Bearer " + token);
    if (who.ok()) ++working_after_revoke;
  }
  EXPECT_EQ(working_after_revoke, 0) << "revocations undone by a concurrent token add";
  int lost_adds = 0;
  for (const std::string& token : added)
    lost_adds += store.Authenticate("Bearer " + token).ok() ? 0 : 1;
  EXPECT_EQ(lost_adds, 0) << "tokens added concurrently that the table lost";
}

TEST(ServerFiles, EverythingCreatedIsPrivateWhateverTheUmask) {
  TempDir tmp;
  std::string dir = tmp.Sub("city"), bundle = tmp.Sub("bundle"), bare = tmp.Sub("bare");
  const std::string loose = "umask 000; ";
  CommandResult demo =
      RunCommand(loose + CliPath() + " demo --data " + dir + " --people 30 --months 1");
  ASSERT_EQ(demo.exit_code, 0) << demo.out;
  ASSERT_EQ(
      RunCommand(loose + CliPath() + " init --data " + bare + " --origin bare.test").exit_code, 0);
  ASSERT_EQ(RunCommand(loose + CliPath() + " token add --data " + dir +
                       " --role maker --actor clerk.zhou")
                .exit_code,
            0);
  ASSERT_EQ(RunCommand(loose + CliPath() + " snapshot --data " + dir).exit_code, 0);
  std::string admin;
  {
    std::istringstream lines(demo.out);
    for (std::string line; std::getline(lines, line);)
      if (line.starts_with("token admin ")) admin = TokenFrom(line);
  }
  {
    ServerProcessOptions options;
    options.shell_setup = "umask 000";
    ServerProcess server(dir, options);
    ASSERT_GT(server.port(), 0);
    HttpClient client(server.port());
    RequestSigner signer = DemoSigner(dir, "admin.zhao", fb::Role::admin);
    HttpResult r = client.Command(
        signer, fb::EventType::Appropriated, "/v1/appropriations", admin,
        R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":100,"source":"treasury","document":"d"})",
        "umask-1");
    EXPECT_EQ(r.status, 201) << r.body;
    r = client.Command(signer, fb::EventType::DisclosurePublished, "/v1/disclosures", admin,
                       R"({"scope":"fund","id":"F-SUBSIDY","period":"2025"})", "umask-2");
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(server.Terminate(), 0);
  }
  ASSERT_EQ(
      RunCommand(loose + CliPath() + " audit export --data " + dir + " --out " + bundle).exit_code,
      0);
  for (const std::string& root : {dir, dir + ".keys", bare, bare + ".keys", bundle}) {
    std::vector<std::string> wrong = NotPrivate(root);
    EXPECT_TRUE(wrong.empty()) << wrong.size() << " not 0700/0600, e.g. " << wrong.front();
  }
}

// A server started on files another user could change: a clear refusal naming the file and
// what to run, and no server.
TEST(ServerFiles, ServeRefusesFilesAnotherUserCouldChange) {
  TempDir tmp;
  std::string dir = tmp.Sub("city");
  ASSERT_EQ(RunCommand(CliPath() + " demo --data " + dir + " --people 20 --months 1").exit_code, 0);
  auto serve = [&] {
    // `timeout` bounds a server that wrongly starts; 124 is its exit code then.
    return RunCommand("timeout 20 " + CliPath() + " serve --quiet --listen 127.0.0.1:0 --data " +
                      dir);
  };
  struct Case {
    std::string path;
    mode_t bad_mode, good_mode;
    std::string says;
  };
  std::vector<Case> modes{
      {dir, 0777, 0700, "writable by group or others; run chmod 700"},
      {dir, 0720, 0700, "writable by group or others"},
      {dir + "/tokens", 0620, 0600, "the token table"},
      {dir + "/signing.key", 0640, 0600, "the signing key"},
      {dir + ".keys/vault.key", 0604, 0600, "the vault key"},
      {dir + "/store", 0757, 0700, "the store"},
  };
  for (const Case& c : modes) {
    ASSERT_EQ(::chmod(c.path.c_str(), c.bad_mode), 0) << c.path;
    CommandResult r = serve();
    EXPECT_EQ(r.exit_code, 2) << c.path << ": " << r.out;
    EXPECT_NE(r.out.find("serve refuses to start"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << r.out;
    ASSERT_EQ(::chmod(c.path.c_str(), c.good_mode), 0);
  }
  if (::geteuid() == 0) {  // only root can give a file away
    for (const std::string& path :
         {dir, dir + "/tokens", dir + "/signing.key", dir + ".keys/vault.key"}) {
      ASSERT_EQ(::chown(path.c_str(), 65534, static_cast<gid_t>(-1)), 0);
      CommandResult r = serve();
      EXPECT_EQ(r.exit_code, 2) << path << ": " << r.out;
      EXPECT_NE(r.out.find("is owned by uid 65534, not by this user"), std::string::npos) << r.out;
      ASSERT_EQ(::chown(path.c_str(), 0, static_cast<gid_t>(-1)), 0);
    }
  }
  ServerProcess server(dir);  // and with every file its own again, it serves
  EXPECT_GT(server.port(), 0);
}

}  // namespace
}  // namespace fundledger::testing
