// The ledger's side of witnessing: each new checkpoint is cosigned by the policy's witnesses
// and published only when the quorum holds; a witness that is down holds publication back
// without losing what was published; the published checkpoint survives a restart; the
// checkpoint endpoint serves it.
#include "api/checkpoint_publisher.h"

#include <filesystem>

#include "api/http_witness_transport.h"
#include "tests/domain_fixture.h"
#include "tests/witness/witness_fixture.h"

namespace fundledger::testing {
namespace {

constexpr uint64_t kNow = 1'750'000'000;

class CheckpointPublisherTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    WatchedLog watched{ledger_->log().origin(), {ledger_->log().verifier()}};
    office_ = std::make_unique<TestWitness>("audit-office.example/w", std::vector{watched});
    federation_ = std::make_unique<TestWitness>("federation.example/w", std::vector{watched});
    office_->now = federation_->now = kNow;
    transport_.Serve("http://office", &**office_);
    transport_.Serve("http://federation", &**federation_);
  }

  std::string Policy(const std::string& quorum) {
    return "log " + ledger_->log().vkey() + "\n" + "witness office " + (*office_)->VerifierKey() +
           " http://office\n" + "witness federation " + (*federation_)->VerifierKey() +
           " http://federation\n" + "group both all office federation\n" + "quorum " + quorum +
           "\n";
  }

  std::unique_ptr<CheckpointPublisher> Open(const std::string& quorum) {
    CheckpointPublisherOptions o;
    o.path = tmp_.Sub("published-checkpoint");
    o.policy = *WitnessPolicy::Parse(Policy(quorum));
    o.transport = &transport_;
    o.now_seconds = [] { return kNow; };
    Result<std::unique_ptr<CheckpointPublisher>> p =
        CheckpointPublisher::Open(ledger_->log(), std::move(o));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  uint64_t LatestSize() {
    return OpenCheckpoint(*ledger_->log().LatestCheckpoint(), ledger_->log().verifier())->size;
  }

  std::unique_ptr<TestWitness> office_, federation_;
  InProcessTransport transport_;
};

TEST_F(CheckpointPublisherTest, EachNewCheckpointIsPublishedOnceBothWitnessesCosign) {
  std::unique_ptr<CheckpointPublisher> p = Open("both");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->Published().has_value());
  ASSERT_TRUE(p->RunRound().ok());
  std::optional<std::string> first = p->Published();
  ASSERT_TRUE(first.has_value());
  Result<PublishedCheckpoint> checked = CheckPolicy(*first, p->policy());
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_EQ(checked->checkpoint.size, LatestSize());
  EXPECT_EQ(checked->cosigned_by.size(), 2u);

  // The log grows: the witnesses are shown a consistency proof from what they hold.
  DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
  OpenFund("F1", fb::FundKind::subsidy, {"dibao"});
  ASSERT_TRUE(p->RunRound().ok());
  EXPECT_EQ(p->published_size(), LatestSize());
  EXPECT_GT(p->published_size(), checked->checkpoint.size);
  EXPECT_EQ((*office_)->Held(ledger_->log().origin())->size, LatestSize());
  for (const WitnessProgress& w : p->Witnesses()) {
    EXPECT_EQ(w.cosigned, 2u) << w.name;
    EXPECT_EQ(w.held_size, LatestSize()) << w.name;
  }
}

TEST_F(CheckpointPublisherTest, AWitnessDownHoldsPublicationBackUntilItReturns) {
  std::unique_ptr<CheckpointPublisher> p = Open("both");
  ASSERT_TRUE(p->RunRound().ok());
  uint64_t published = p->published_size();
  transport_.intercept = [](const std::string& url,
                            std::string_view) -> std::optional<WitnessAnswer> {
    if (url.rfind("http://federation", 0) == 0) return WitnessAnswer{503, "text/plain", "down"};
    return std::nullopt;
  };
  DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
  Status round = p->RunRound();
  EXPECT_FALSE(round.ok());
  EXPECT_NE(round.message().find("federation"), std::string::npos) << round.message();
  EXPECT_EQ(p->published_size(), published);  // the older, fully cosigned one stays
  std::vector<WitnessProgress> w = p->Witnesses();
  EXPECT_EQ(w[1].failures, 1u);
  EXPECT_FALSE(w[1].last_error.empty());

  // A quorum of one would have published it; with both, only once the federation is back.
  transport_.intercept = nullptr;
  ASSERT_TRUE(p->RunRound().ok());
  EXPECT_EQ(p->published_size(), LatestSize());
  EXPECT_TRUE(p->Witnesses()[1].last_error.empty());
}

TEST_F(CheckpointPublisherTest, ThePublishedCheckpointSurvivesARestart) {
  std::string note;
  transport_.intercept = [](const std::string& url,
                            std::string_view) -> std::optional<WitnessAnswer> {
    if (url.rfind("http://federation", 0) == 0) return WitnessAnswer{503, "text/plain", "down"};
    return std::nullopt;
  };
  {
    std::unique_ptr<CheckpointPublisher> p = Open("office");
    ASSERT_TRUE(p->RunRound().ok());
    note = *p->Published();
  }
  std::unique_ptr<CheckpointPublisher> again = Open("office");
  ASSERT_TRUE(again->Published().has_value());
  EXPECT_EQ(*again->Published(), note);
  // A file that does not meet the policy is not served.
  std::unique_ptr<CheckpointPublisher> stricter = Open("both");
  EXPECT_FALSE(stricter->Published().has_value());
}

TEST_F(CheckpointPublisherTest, APolicyThatDoesNotNameThisLogIsRefused) {
  CheckpointPublisherOptions o;
  o.path = tmp_.Sub("published-checkpoint");
  NoteSigner other = *MakeNoteSigner("other.example/log", Ed25519PrivateKey::Generate());
  o.policy =
      *WitnessPolicy::Parse("log " + FormatVerifierKey(VerifierFor(other)) + "\nquorum none\n");
  o.transport = &transport_;
  Result<std::unique_ptr<CheckpointPublisher>> p =
      CheckpointPublisher::Open(ledger_->log(), std::move(o));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(ledger_->log().vkey()), std::string::npos);
}

TEST(HttpWitnessTransport, NoAnswerIsAnErrorNamingTheUrlAndABadUrlIsRefused) {
  HttpWitnessTransport transport({std::chrono::milliseconds(2'000)});
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  Result<WitnessAnswer> refused = transport.Post("http://127.0.0.1:1/w/add-checkpoint", "x");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kIoError);
  EXPECT_NE(refused.status().message().find("http://127.0.0.1:1/w/add-checkpoint"),
            std::string::npos);
  Result<WitnessAnswer> ftp = transport.Post("ftp://witness.example/add-checkpoint", "x");
  ASSERT_FALSE(ftp.ok());
  EXPECT_EQ(ftp.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fundledger::testing
