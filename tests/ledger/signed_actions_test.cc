// Signed actions: once a ledger requires signing, every command carries its actor's signature,
// the ledger refuses one that is unsigned, signed by the wrong key, or an approval signed with
// the roll's own key, and verification names any entry written without its actor's key, such
// as an approval forged by whoever holds the data directory.
#include "replay/chain_verifier.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

std::shared_ptr<const ActorSigningKey> NewKey() {
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  return std::make_shared<const ActorSigningKey>(
      ActorSigningKey{ActorKeyId(key.public_key()), key});
}

class SignedActions : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    OpenFund("F-SUB", fb::FundKind::subsidy, {"dibao"});
    Appropriate("F-SUB", "general", 10'000'000);
    Register("B1");
    Enroll("B1", "dibao", 104500);
    // The bootstrap: the first admin key is registered before signing is required.
    Ok(ledger_->RegisterKey(kAdmin, "k-admin", kAdmin.name, {fb::Role::admin},
                            admin_key_->key.public_key(), "appointment 1"));
    Ok(ledger_->RegisterKey(Signed(kAdmin, admin_key_), "k-maker", kMaker.name, {fb::Role::maker},
                            maker_key_->key.public_key(), "appointment 2"));
    Ok(ledger_->RegisterKey(Signed(kAdmin, admin_key_), "k-checker", kChecker.name,
                            {fb::Role::checker}, checker_key_->key.public_key(), "appointment 3"));
    Ok(ledger_->RequireSigning(Signed(kAdmin, admin_key_), "signing-on", "decision 4"));
  }
  static Actor Signed(Actor actor, std::shared_ptr<const ActorSigningKey> key) {
    actor.key = std::move(key);
    return actor;
  }
  Result<AppendResult> PrepareSigned(const std::string& batch, const Actor& maker) {
    return ledger_->PrepareBatch(maker, "prep-" + batch, batch, "F-SUB", "general", 202503, "doc",
                                 {{1, "B1", "dibao", 202503, 104500}});
  }
  static fb::DisbursementBatchApprovedT Approval(const std::string& batch) {
    fb::DisbursementBatchApprovedT a;
    a.batch_id = batch;
    a.document = "approved";
    return a;
  }
  // Verifies the closed log with `threads` threads in chunks of 2^chunk_log2 entries.
  VerifyReport VerifyLogIn(uint8_t chunk_log2, unsigned threads) {
    Result<std::unique_ptr<Log>> log = Log::Open(dir_, ReadOnlyLog());
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    VerifyOptions options;
    options.chunk_log2 = chunk_log2;
    options.threads = threads;
    return VerifyChain(**log, options);
  }
  // Signatures are checked in the same walk as the chain: the verdict, the entry named, its
  // reason and the signature figures do not depend on how the walk is split into chunks.
  void ExpectEveryChunkingAgrees() {
    VerifyReport want = VerifyLogIn(63, 1);  // one chunk: entry after entry
    for (uint8_t chunk_log2 : {0, 1, 2, 3}) {
      for (unsigned threads : {1u, 2u}) {
        VerifyReport got = VerifyLogIn(chunk_log2, threads);
        std::string where = "chunks of 2^" + std::to_string(chunk_log2) + ", " +
                            std::to_string(threads) + " threads";
        EXPECT_EQ(got.valid, want.valid) << where << ": " << got.reason;
        EXPECT_EQ(got.bad_index, want.bad_index) << where;
        EXPECT_EQ(got.reason, want.reason) << where;
        EXPECT_EQ(got.signed_commands, want.signed_commands) << where;
        EXPECT_EQ(got.signing_required_from, want.signing_required_from) << where;
      }
    }
  }
  VerifyReport VerifyLog() {
    EXPECT_TRUE(ledger_->Close().ok());
    Result<std::unique_ptr<Log>> log = Log::Open(dir_, ReadOnlyLog());
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return VerifyChain(**log, {});
  }

  std::shared_ptr<const ActorSigningKey> admin_key_ = NewKey(), maker_key_ = NewKey(),
                                         checker_key_ = NewKey();
};

TEST_F(SignedActions, SignedCommandsAreAcceptedAndVerify) {
  Ok(PrepareSigned("R1", Signed(kMaker, maker_key_)));
  Ok(ledger_->Submit(Signed(kChecker, checker_key_), "approve-R1", {Approval("R1")}));
  VerifyReport r = VerifyLog();
  EXPECT_TRUE(r.valid) << r.bad_index << ": " << r.reason;
  EXPECT_EQ(r.signed_commands, 5u);  // three key entries, the roll, the approval
  ExpectEveryChunkingAgrees();
}

TEST_F(SignedActions, AnUnsignedCommandIsRefused) {
  Rejects(PrepareSigned("R1", kMaker), "signature_required");
  Ok(PrepareSigned("R1", Signed(kMaker, maker_key_)));
  Rejects(Approve("R1"), "signature_required");
}

TEST_F(SignedActions, AnotherPersonsKeyIsRefused) {
  Rejects(PrepareSigned("R1", Signed(kMaker, checker_key_)), "unknown_key");
  Rejects(PrepareSigned("R1", Signed(kMaker, NewKey())), "unknown_key");
}

TEST_F(SignedActions, AKeyActsOnlyInItsRoles) {
  Rejects(PrepareSigned("R1", Signed(Actor{kMaker.name, fb::Role::admin}, maker_key_)),
          "key_not_for_role");
}

TEST_F(SignedActions, ARevokedKeyIsRefused) {
  Ok(ledger_->RevokeKey(Signed(kAdmin, admin_key_), "revoke-maker", maker_key_->key_id, "left"));
  Rejects(PrepareSigned("R1", Signed(kMaker, maker_key_)), "key_revoked");
}

TEST_F(SignedActions, AnApprovalSignedWithTheRollsKeyIsRefused) {
  // One person holding both roles under one key still cannot approve their own roll.
  auto both = NewKey();
  Ok(ledger_->RegisterKey(Signed(kAdmin, admin_key_), "k-both", "clerk.zhou",
                          {fb::Role::maker, fb::Role::checker}, both->key.public_key(), "a"));
  Ok(PrepareSigned("R1", Signed(Actor{"clerk.zhou", fb::Role::maker}, both)));
  Rejects(
      ledger_->Submit(Signed(Actor{"clerk.zhou", fb::Role::checker}, both), "ap", {Approval("R1")}),
      "checker_key_is_makers");
  Ok(ledger_->Submit(Signed(kChecker, checker_key_), "approve-R1", {Approval("R1")}));
}

TEST_F(SignedActions, AKeyIsRegisteredOnceAndOnlyByAnAdmin) {
  Rejects(ledger_->RegisterKey(Signed(kAdmin, admin_key_), "again", "someone.else",
                               {fb::Role::maker}, maker_key_->key.public_key(), "dup"),
          "duplicate_key");
  auto k = NewKey();
  Rejects(ledger_->RegisterKey(Signed(kMaker, maker_key_), "self", kMaker.name, {fb::Role::admin},
                               k->key.public_key(), "promote myself"),
          "admin_only");
}

TEST_F(SignedActions, AKeyOfSmallOrderIsRefusedAndNothingIsAppended) {
  // The neutral point: under it a forged signature of any command verifies.
  Ed25519PublicKey neutral{};
  neutral[0] = 1;
  const uint64_t size = ledger_->log().size();
  Rejects(ledger_->RegisterKey(Signed(kAdmin, admin_key_), "weak", "clerk.sun", {fb::Role::maker},
                               neutral, "a key anyone can sign with"),
          "weak_key");
  EXPECT_EQ(ledger_->log().size(), size);
}

TEST_F(SignedActions, TheKeyRegistrySurvivesReopening) {
  Reopen();
  Rejects(PrepareSigned("R1", kMaker), "signature_required");
  Ok(PrepareSigned("R1", Signed(kMaker, maker_key_)));
}

// The forged approval: whoever holds the data directory appends an approval in
// checker.wang's name without the ledger's rules (the log alone, no domain), and without the
// checker's key. Verification names that entry.
TEST_F(SignedActions, AnApprovalForgedWithTheDataDirectoryFailsVerificationAtItsIndex) {
  Ok(PrepareSigned("R1", Signed(kMaker, maker_key_)));
  ASSERT_TRUE(ledger_->Close().ok());
  ledger_.reset();
  uint64_t forged = 0;
  {
    Result<std::unique_ptr<Log>> log = Log::Open(dir_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    Submission s;
    s.idempotency_key = "forged";
    s.entries.push_back(NewEntry{kChecker.name, fb::Role::checker,
                                 fb::EventType::DisbursementBatchApproved,
                                 EncodeEvent(Approval("R1"))});
    Result<AppendResult> r = (*log)->Append(std::move(s));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    forged = r->first_index;
    ASSERT_TRUE((*log)->Close().ok());
  }
  Result<std::unique_ptr<Log>> log = Log::Open(dir_, ReadOnlyLog());
  ASSERT_TRUE(log.ok());
  VerifyReport r = VerifyChain(**log, {});
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.bad_index, forged);
  EXPECT_NE(r.reason.find("not signed"), std::string::npos) << r.reason;
  log->reset();
  ExpectEveryChunkingAgrees();
}

// A copied signature (a real approval's, on a second entry) or one moved to another batch.
TEST_F(SignedActions, ACopiedSignatureFailsVerification) {
  Ok(PrepareSigned("R1", Signed(kMaker, maker_key_)));
  Result<AppendResult> approved =
      ledger_->Submit(Signed(kChecker, checker_key_), "approve-R1", {Approval("R1")});
  Ok(approved);
  Bytes real;
  ASSERT_TRUE(ledger_->log()
                  .ScanEntries(approved->first_index, approved->first_index + 1,
                               [&](uint64_t, ByteView b) {
                                 real.assign(b.begin(), b.end());
                                 return Status::Ok();
                               })
                  .ok());
  ASSERT_TRUE(ledger_->Close().ok());
  ledger_.reset();
  Result<EntryView> e = DecodeEntry(real);
  ASSERT_TRUE(e.ok());
  Result<std::optional<EntrySignature>> sig = DecodeEntrySignature(e->signature);
  ASSERT_TRUE(sig.ok() && sig->has_value());
  uint64_t copied = 0;
  {
    Result<std::unique_ptr<Log>> log = Log::Open(dir_);
    ASSERT_TRUE(log.ok());
    Submission s;
    s.idempotency_key = "approve-R1-again";
    NewEntry copy{kChecker.name, fb::Role::checker, fb::EventType::DisbursementBatchApproved,
                  Bytes(e->payload.begin(), e->payload.end()), **sig};
    s.entries.push_back(copy);
    s.idempotency_key = std::string(e->idempotency_key) + " ";  // another submission
    Result<AppendResult> r = (*log)->Append(std::move(s));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    copied = r->first_index;
    ASSERT_TRUE((*log)->Close().ok());
  }
  Result<std::unique_ptr<Log>> log = Log::Open(dir_, ReadOnlyLog());
  ASSERT_TRUE(log.ok());
  VerifyReport r = VerifyChain(**log, {});
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.bad_index, copied) << r.reason;
  log->reset();
  ExpectEveryChunkingAgrees();
}

}  // namespace
}  // namespace fundledger::testing
