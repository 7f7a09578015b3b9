// An attacker with write access to the disk changes the store through RocksDB, or its files
// directly. Whatever they change, opening or verifying the store must fail and name the first
// entry at fault.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>

#include "crypto/checkpoint.h"
#include "crypto/key_file.h"
#include "replay/chain_verifier.h"
#include "tests/test_util.h"

namespace fundledger {
namespace {

using testing::MemoSubmission;
using testing::RawStore;
using testing::TempDir;

constexpr int kSubmissions =
    60;  // 301 entries: past the 256 where scans read ahead on a second thread
constexpr int kEntriesPerSubmission = 5;
constexpr uint64_t kLogSize = 1 + kSubmissions * kEntriesPerSubmission;
constexpr int kTrialsPerKind = 25;

struct Detection {
  bool detected = false;
  uint64_t index = 0;
  std::string reason;
};

// Opens as `fundledger verify` does and verifies the whole chain; reports the first bad index.
Detection Detect(const std::string& dir) {
  LogOptions ro;
  ro.read_only = true;
  ro.check_tail_on_open = false;
  Result<std::unique_ptr<Log>> log = Log::Open(dir, ro);
  if (!log.ok()) {
    std::string msg = log.status().message();
    size_t at = msg.find("entry ");
    if (at != std::string::npos) return {true, std::stoull(msg.substr(at + 6)), msg};
    return {true, UINT64_MAX, msg};
  }
  VerifyReport r = VerifyChain(**log, {});
  // Checked in chunks of 8 entries on three threads, the verdict must be the same: the same
  // entry, for the same reason.
  VerifyOptions chunked;
  chunked.threads = 3;
  chunked.chunk_log2 = 3;
  VerifyReport c = VerifyChain(**log, chunked);
  EXPECT_EQ(c.valid, r.valid);
  EXPECT_EQ(c.bad_index, r.bad_index);
  EXPECT_EQ(c.reason, r.reason);
  // Replay's walk checks entries on a second thread ahead of on_entry: on_entry must see
  // every entry before the bad one, in order, and none after.
  VerifyOptions replaying;
  uint64_t applied = 0;
  replaying.on_entry = [&](uint64_t i, ByteView) {
    EXPECT_EQ(i, applied);
    ++applied;
    return Status::Ok();
  };
  VerifyReport a = VerifyChain(**log, replaying);
  EXPECT_EQ(a.valid, r.valid);
  EXPECT_EQ(a.bad_index, r.bad_index);
  EXPECT_EQ(a.reason, r.reason);
  bool after_the_walk = r.reason.find("entries in the log") != std::string::npos ||
                        r.reason.find("no signed checkpoint") != std::string::npos;
  if (!r.valid && !after_the_walk) {
    EXPECT_EQ(applied, r.bad_index) << r.reason;
  }
  return {!r.valid, r.bad_index, r.reason};
}

class TamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pristine_ = new TempDir();
    std::unique_ptr<Log> log =
        std::move(Log::Create(pristine_->Sub("ledger"), "tamper.fundledger.local")).value();
    for (int s = 0; s < kSubmissions; ++s) {
      std::vector<std::string> texts;
      for (int e = 0; e < kEntriesPerSubmission; ++e)
        texts.push_back("memo " + std::to_string(s * 10 + e));
      ASSERT_TRUE(log->Append(MemoSubmission("s" + std::to_string(s), texts)).ok());
    }
    ASSERT_EQ(log->size(), kLogSize);
    ASSERT_TRUE(log->Close().ok());
  }
  static void TearDownTestSuite() { delete pristine_; }

  // A fresh copy of the pristine ledger for one trial.
  std::string Copy(const TempDir& trial) {
    std::string dest = trial.Sub("ledger");
    std::filesystem::copy(pristine_->Sub("ledger"), dest, std::filesystem::copy_options::recursive);
    return dest;
  }

  // Each trial replaces one signed checkpoint (they are at sizes 1, 6, 11, ...) of a fresh
  // copy by forge(the note's text) and expects verification to name the entry that completes
  // it, saying `reason` when one is given. Counts the trials that did.
  void ForgeCheckpointTrials(
      uint64_t seed, const std::string& reason,
      const std::function<Result<std::string>(const std::string&, std::mt19937_64&)>& forge,
      int* detected) {
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < kTrialsPerKind; ++trial) {
      TempDir t;
      std::string dir = Copy(t);
      uint64_t size = 1 + kEntriesPerSubmission * (rng() % (kSubmissions + 1));
      {
        RawStore raw(dir);
        std::string key = EntryKey(size);  // checkpoints are keyed by big-endian size, like entries
        Result<Note> note = ParseNote(raw.Get(kCheckpointsColumn, key));
        ASSERT_TRUE(note.ok());
        Result<std::string> forged = forge(note->text, rng);
        ASSERT_TRUE(forged.ok()) << forged.status().message();
        raw.Put(kCheckpointsColumn, key, *forged);
      }
      Detection d = Detect(dir);
      EXPECT_TRUE(d.detected) << "size " << size;
      EXPECT_EQ(d.index, size - 1) << d.reason;
      if (!reason.empty()) {
        EXPECT_NE(d.reason.find(reason), std::string::npos) << d.reason;
      }
      *detected += d.detected && d.index == size - 1;
    }
  }

  static TempDir* pristine_;
};
TempDir* TamperTest::pristine_ = nullptr;

TEST_F(TamperTest, PristineCopyVerifies) {
  TempDir trial;
  Detection d = Detect(Copy(trial));
  EXPECT_FALSE(d.detected) << d.reason;
}

TEST_F(TamperTest, FlippedByteInAnEntryIsFoundAtThatIndex) {
  std::mt19937_64 rng(0xF1F0);
  int detected = 0;
  for (int trial = 0; trial < kTrialsPerKind; ++trial) {
    TempDir t;
    std::string dir = Copy(t);
    uint64_t index = rng() % kLogSize;
    {
      RawStore raw(dir);
      std::string bytes = raw.GetEntry(index);
      size_t offset = rng() % bytes.size();
      bytes[offset] = static_cast<char>(bytes[offset] ^ (1 << (rng() % 8)));
      raw.PutEntry(index, bytes);
    }
    Detection d = Detect(dir);
    EXPECT_TRUE(d.detected) << "trial " << trial << " index " << index;
    EXPECT_EQ(d.index, index) << d.reason;
    detected += d.detected && d.index == index;
  }
  std::cout << "flip-entry-byte: " << kTrialsPerKind << " trials, " << detected
            << " detected at the right index\n";
}

TEST_F(TamperTest, DroppedOrSwappedEntriesAreFound) {
  std::mt19937_64 rng(0xD0D0);
  int detected = 0;
  for (int trial = 0; trial < kTrialsPerKind; ++trial) {
    TempDir t;
    std::string dir = Copy(t);
    uint64_t i = 1 + rng() % (kLogSize - 2);
    uint64_t j = i + 1 + rng() % (kLogSize - 1 - i);
    bool swap = trial % 2 == 0;
    {
      RawStore raw(dir);
      if (swap) {
        std::string a = raw.GetEntry(i);
        std::string b = raw.GetEntry(j);
        raw.PutEntry(i, b);
        raw.PutEntry(j, a);
      } else {
        raw.DeleteEntry(i);
      }
    }
    Detection d = Detect(dir);
    EXPECT_TRUE(d.detected) << (swap ? "swap " : "drop ") << i << "," << j;
    EXPECT_EQ(d.index, i) << d.reason;
    detected += d.detected && d.index == i;
  }
  std::cout << "drop/swap-entries: " << kTrialsPerKind << " trials, " << detected
            << " detected at the right index\n";
}

TEST_F(TamperTest, AlteredTreeNodeIsFoundAtTheEntryThatCompletesIt) {
  std::mt19937_64 rng(0x7EE);
  int detected = 0;
  for (int trial = 0; trial < kTrialsPerKind; ++trial) {
    TempDir t;
    std::string dir = Copy(t);
    // A stored node: in a complete tile, or a leaf row of the incomplete one (the rest of the
    // edge is computed from those, not stored).
    uint8_t level = 0;
    uint64_t index = 0;
    do {
      level = static_cast<uint8_t>(rng() % 7);
      index = rng() % (kLogSize >> level);
    } while (level > 0 && ((index + 1) << level) > kLogSize / kTileWidth * kTileWidth);
    {
      RawStore raw(dir);
      TilePlace at = PlaceOfNode(level, index);
      std::string key = TileKey(at.tile_level, at.tile_index);
      size_t offset = TileRowOffset(at.row) + at.position * kHashBytes;
      if (((index + 1) << level) > kLogSize / kTileWidth * kTileWidth) {
        key = LeafRowKey(index);
        offset = 0;
      }
      std::string value = raw.Get(kTreeColumn, key);
      value[offset + rng() % kHashBytes] ^= 1;
      raw.Put(kTreeColumn, key, value);
    }
    uint64_t expected = ((index + 1) << level) - 1;  // the last leaf under the node
    Detection d = Detect(dir);
    EXPECT_TRUE(d.detected) << "level " << int(level) << " index " << index;
    EXPECT_EQ(d.index, expected) << d.reason;
    // The node itself is named (a leaf by its entry's index).
    const std::string named = level == 0 ? "leaf hash does not match the stored tree"
                                         : "stored tree node (level " + std::to_string(level) +
                                               ", index " + std::to_string(index) + ")";
    EXPECT_NE(d.reason.find(named), std::string::npos) << d.reason;
    detected += d.detected && d.index == expected;
  }
  std::cout << "alter-tree-node: " << kTrialsPerKind << " trials, " << detected
            << " detected at the right index\n";
}

// Flips one bit of the stored bytes `pattern` inside the store's table files, as a disk or an
// attacker writing the files (not through RocksDB) would: the block's checksum no longer holds.
// The pattern must occur exactly once.
void FlipOnDisk(const std::string& dir, const std::string& pattern, size_t byte) {
  int found = 0;
  for (const auto& file : std::filesystem::recursive_directory_iterator(dir + "/store")) {
    if (file.path().extension() != ".sst") continue;
    std::string bytes;
    {
      std::ifstream in(file.path(), std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const size_t at = bytes.find(pattern);
    if (at == std::string::npos) continue;
    ++found;
    bytes[at + byte] ^= 0x10;
    std::ofstream out(file.path(), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ASSERT_EQ(found, 1);
}

// Verification reads complete tiles without re-checking their block checksums (it compares every
// node with its own hash of the entries): a bit flipped in a tile on disk is still found, at the
// entry that completes the node, on one thread, in chunks and in replay's walk. Every other read
// of the tree still checks the checksum and refuses the block.
TEST(TamperOnDisk, BitFlippedInATileOnDiskIsFoundAtTheEntryThatCompletesItsNode) {
  // Past one complete tile of the second tile level (65,536 entries): an open reads the tiles
  // under the incomplete one only, so the first tiles are read by the walk and the flipped
  // node's other readers alone. Two chunks of a verification's default size.
  TempDir pristine;
  {
    std::unique_ptr<Log> log =
        std::move(Log::Create(pristine.Sub("ledger"), "disk.fundledger.local")).value();
    for (int s = 0; s < 9; ++s) {
      std::vector<std::string> texts;
      for (int e = 0; e < 8192; ++e) texts.push_back("memo " + std::to_string(s * 8192 + e));
      ASSERT_TRUE(log->Append(MemoSubmission("s" + std::to_string(s), texts)).ok());
    }
    ASSERT_TRUE(log->Close().ok());
  }
  // Interior nodes of the second tile (entries 256..511), levels 1 to 7: each node's hash is
  // stored there only (a leaf hash is also inside the next entry).
  const std::vector<std::pair<uint8_t, uint64_t>> nodes = {{1, 128}, {2, 73}, {4, 31}, {7, 3}};
  for (auto [level, index] : nodes) {
    TempDir t;
    const std::string dir = t.Sub("ledger");
    std::filesystem::copy(pristine.Sub("ledger"), dir, std::filesystem::copy_options::recursive);
    std::string stored;
    {
      std::unique_ptr<Log> log = std::move(Log::Open(dir, testing::ReadOnlyLog())).value();
      Result<Hash> node = log->ReadNode(level, index);
      ASSERT_TRUE(node.ok()) << node.status().ToString();
      stored.assign(reinterpret_cast<const char*>(node->data()), node->size());
    }
    FlipOnDisk(dir, stored, index % kHashBytes);
    const uint64_t expected = ((index + 1) << level) - 1;  // the last leaf under the node
    Detection d = Detect(dir);
    EXPECT_TRUE(d.detected) << "level " << int(level) << " index " << index;
    EXPECT_EQ(d.index, expected) << d.reason;
    EXPECT_NE(d.reason.find("stored tree node (level " + std::to_string(level) + ", index " +
                            std::to_string(index) + ") does not match the entries"),
              std::string::npos)
        << d.reason;
    Result<std::unique_ptr<Log>> log = Log::Open(dir, testing::ReadOnlyLog());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_FALSE((*log)->ReadNode(level, index).ok()) << "a point read checks the checksum";
    std::unique_ptr<NodeCursor> cursor = (*log)->OpenNodeCursor(level, index);
    EXPECT_FALSE(cursor->Next().ok()) << "a node cursor (export) checks the checksum";
  }
}

TEST_F(TamperTest, CheckpointResignedWithAnotherKeyIsFound) {
  NoteSigner forger = *MakeNoteSigner("tamper.fundledger.local", Ed25519PrivateKey::Generate());
  int detected = 0;
  ForgeCheckpointTrials(
      0x5165, "",
      [&](const std::string& text, std::mt19937_64&) -> Result<std::string> {
        return SignNote(text, forger);
      },
      &detected);
  std::cout << "resign-checkpoint: " << kTrialsPerKind << " trials, " << detected << " detected\n";
}

// The log's own key signs a root the entries do not have: only recomputing the root finds it
// (in chunks, the root is joined from the chunk's own subtrees and the tree before it).
TEST_F(TamperTest, CheckpointOfAWrongRootSignedWithTheLogsKeyIsFound) {
  Result<NoteSigner> signer =
      ReadSignerKeyFile(pristine_->Sub("ledger") + "/signing.key");  // every copy's key
  ASSERT_TRUE(signer.ok()) << signer.status().message();
  int detected = 0;
  ForgeCheckpointTrials(
      0x2007, "signed root differs",
      [&](const std::string& text, std::mt19937_64& rng) -> Result<std::string> {
        FL_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(text));
        cp.root[rng() % cp.root.size()] ^= 1;
        return SignNote(FormatCheckpoint(cp), *signer);
      },
      &detected);
  std::cout << "forged-root: " << kTrialsPerKind << " trials, " << detected << " detected\n";
}

// The stored tree is compared a tile row at a time, after the entries that completed the row's
// nodes were checked: of two faults, the one at the earlier entry must still be the one named,
// whichever kind each is.
TEST_F(TamperTest, OfTwoFaultsTheEarlierEntryIsNamed) {
  Result<NoteSigner> signer = ReadSignerKeyFile(pristine_->Sub("ledger") + "/signing.key");
  ASSERT_TRUE(signer.ok()) << signer.status().message();
  auto alter_leaf = [](RawStore& raw, uint64_t index) {  // in the complete tile (0, 0)
    std::string value = raw.Get(kTreeColumn, TileKey(0, 0));
    value[TileRowOffset(0) + index * kHashBytes] ^= 1;
    raw.Put(kTreeColumn, TileKey(0, 0), value);
  };
  auto flip_entry = [](RawStore& raw, uint64_t index) {
    std::string bytes = raw.GetEntry(index);
    bytes[bytes.size() - 20] ^= 0x01;
    raw.PutEntry(index, bytes);
  };
  auto wrong_root = [&](RawStore& raw, uint64_t size) {  // signed with the log's own key
    std::string key = EntryKey(size);
    Result<Note> note = ParseNote(raw.Get(kCheckpointsColumn, key));
    ASSERT_TRUE(note.ok());
    Result<Checkpoint> cp = ParseCheckpoint(note->text);
    ASSERT_TRUE(cp.ok());
    cp->root[0] ^= 1;
    raw.Put(kCheckpointsColumn, key, SignNote(FormatCheckpoint(*cp), *signer));
  };
  struct Trial {
    std::function<void(RawStore&)> tamper;
    uint64_t expected;
  };
  const std::vector<Trial> trials = {
      {[&](RawStore& raw) { alter_leaf(raw, 10), flip_entry(raw, 200); }, 10},
      {[&](RawStore& raw) { flip_entry(raw, 10), alter_leaf(raw, 200); }, 10},
      {[&](RawStore& raw) { alter_leaf(raw, 3), wrong_root(raw, 6); }, 3},
      {[&](RawStore& raw) { alter_leaf(raw, 5), wrong_root(raw, 6); }, 5},
      {[&](RawStore& raw) { alter_leaf(raw, 40), wrong_root(raw, 36); }, 35},
      {[&](RawStore& raw) { alter_leaf(raw, 255), flip_entry(raw, 290); }, 255},
  };
  for (size_t k = 0; k < trials.size(); ++k) {
    TempDir t;
    std::string dir = Copy(t);
    {
      RawStore raw(dir);
      trials[k].tamper(raw);
    }
    Detection d = Detect(dir);
    EXPECT_TRUE(d.detected) << "trial " << k;
    EXPECT_EQ(d.index, trials[k].expected) << "trial " << k << ": " << d.reason;
  }
}

TEST_F(TamperTest, TruncatedTailIsFound) {
  std::mt19937_64 rng(0x7A11);
  int detected = 0;
  for (int trial = 0; trial < kTrialsPerKind; ++trial) {
    TempDir t;
    std::string dir = Copy(t);
    uint64_t keep = 1 + rng() % (kLogSize - 1);
    {
      RawStore raw(dir);
      for (uint64_t i = keep; i < kLogSize; ++i) raw.DeleteEntry(i);
      if (trial % 2 == 1) {
        // Also lower the recorded size, as a more careful attacker would.
        raw.Put(kMetaColumn, "size", EntryKey(keep));
      }
    }
    Detection d = Detect(dir);
    EXPECT_TRUE(d.detected) << "kept " << keep;
    // Either the first missing entry, or the last kept one whose checkpoints now exceed the log.
    bool right = d.index == keep || d.index == keep - 1;
    EXPECT_TRUE(right) << "kept " << keep << ": " << d.index << " " << d.reason;
    detected += d.detected && right;
  }
  std::cout << "truncate-tail: " << kTrialsPerKind << " trials, " << detected
            << " detected at the right index\n";
}

TEST_F(TamperTest, CliVerifyNamesTheFlippedEntryAndExitsOne) {
  TempDir t;
  std::string dir = Copy(t);
  {
    RawStore raw(dir);
    std::string bytes = raw.GetEntry(42);
    bytes[bytes.size() - 20] ^= 0x01;
    raw.PutEntry(42, bytes);
  }
  testing::CommandResult r = testing::RunCommand(testing::CliPath() + " verify --data " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("INVALID at entry 42"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace fundledger
