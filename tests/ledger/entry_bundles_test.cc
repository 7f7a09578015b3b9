// Entries stored as C2SP entry bundles (log_format.h): each complete bundle of 256 entries is one
// value, the incomplete last one is kept as single values; reads of one entry and of any range
// see the same bytes whichever form holds them; a store written before bundles (every entry a
// value of its own) opens read-only as it is and is converted by a writable open; a changed
// byte inside a bundle is named at its entry.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/log.h"
#include "replay/chain_verifier.h"
#include "tests/test_util.h"

namespace fundledger {
namespace {

using testing::MemoSubmission;
using testing::RawStore;
using testing::TempDir;

// Appends submissions of these sizes (entries each) after the genesis entry.
void AppendGroups(Log& log, const std::vector<int>& sizes) {
  for (int size : sizes) {
    const std::string key = "k" + std::to_string(log.size());
    std::vector<std::string> texts;
    for (int i = 0; i < size; ++i) texts.push_back("memo " + key + "." + std::to_string(i));
    Result<AppendResult> r = log.Append(MemoSubmission(key, texts));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

std::unique_ptr<Log> CreateLogWith(const std::string& dir, const std::vector<int>& sizes) {
  Result<std::unique_ptr<Log>> log = Log::Create(dir, "test.fundledger.local");
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  AppendGroups(**log, sizes);
  return std::move(log).value();
}

std::unique_ptr<Log> OpenLog(const std::string& dir, LogOptions options = {}) {
  Result<std::unique_ptr<Log>> log = Log::Open(dir, options);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(log).value() : nullptr;
}

LogOptions ReadOnlyUnchecked() {
  LogOptions o = testing::ReadOnlyLog();
  o.check_tail_on_open = false;
  return o;
}

std::vector<Bytes> ScanAll(const Log& log, uint64_t begin, uint64_t end) {
  std::vector<Bytes> out;
  Status s = log.ScanEntries(begin, end, [&](uint64_t i, ByteView bytes) {
    EXPECT_EQ(i, begin + out.size());
    out.emplace_back(bytes.begin(), bytes.end());
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Every entry read alone equals the same entry in a scan, records its own index, and any range
// scanned equals that slice of the whole.
void ExpectReadsAgree(const Log& log) {
  const std::vector<Bytes> all = ScanAll(log, 0, log.size());
  ASSERT_EQ(all.size(), log.size());
  for (uint64_t i = 0; i < log.size(); ++i) {
    Result<Bytes> one = log.ReadEntry(i);
    ASSERT_TRUE(one.ok()) << i << ": " << one.status().ToString();
    ASSERT_EQ(*one, all[i]) << "entry " << i;
    Result<EntryView> e = DecodeEntry(*one);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->index, i);
  }
  const uint64_t n = log.size();
  for (auto [b, e] : std::vector<std::pair<uint64_t, uint64_t>>{
           {255, 257}, {1, 256}, {256, 512}, {300, n}, {n - 1, n}, {511, 513}}) {
    if (e > n || b >= e) continue;
    std::vector<Bytes> part = ScanAll(log, b, e);
    EXPECT_EQ(part, std::vector<Bytes>(all.begin() + b, all.begin() + e)) << b << ".." << e;
  }
  VerifyReport report = VerifyChain(log, {});
  EXPECT_TRUE(report.valid) << report.bad_index << ": " << report.reason;
}

std::vector<std::string> BundleLayout(uint64_t size) {
  std::vector<std::string> keys;
  for (uint64_t b = 0; b + kBundleEntries <= size; b += kBundleEntries)
    keys.push_back(BundleKey(b));
  for (uint64_t i = BundleStart(size); i < size; ++i) keys.push_back(EntryKey(i));
  return keys;
}

// Submissions that end inside a bundle, exactly at its end, and span several bundles.
const std::vector<int> kGroups = {1, 254, 1, 3, 300, 7, 1, 600};

TEST(EntryBundles, CompleteBundlesAreOneValueEachAndTheIncompleteOneIsSingles) {
  TempDir dir;
  std::unique_ptr<Log> log = CreateLogWith(dir.path(), kGroups);
  const uint64_t size = log->size();
  ASSERT_EQ(size, 1168u);
  ExpectReadsAgree(*log);
  ASSERT_TRUE(log->Close().ok());
  log.reset();
  {
    RawStore raw(dir.path());
    EXPECT_EQ(raw.Keys(kEntriesColumn), BundleLayout(size));
    EXPECT_EQ(raw.Get(kMetaColumn, kMetaFormat), kLogFormat);
  }
  log = OpenLog(dir.path());
  ASSERT_NE(log, nullptr);
  ExpectReadsAgree(*log);
  AppendGroups(*log, {1, 150});  // completes the bundle at 1024 from singles of earlier groups
  EXPECT_EQ(log->size(), size + 151);
  ExpectReadsAgree(*log);
  ASSERT_TRUE(log->Close().ok());
  log.reset();
  RawStore raw(dir.path());
  EXPECT_EQ(raw.Keys(kEntriesColumn), BundleLayout(size + 151));
}

TEST(EntryBundles, AStoreOfSingleValuesOpensReadOnlyAsItIsAndAWritableOpenConvertsIt) {
  TempDir dir;
  uint64_t size = 0;
  std::vector<Bytes> before;
  {
    std::unique_ptr<Log> log = CreateLogWith(dir.path(), kGroups);
    size = log->size();
    before = ScanAll(*log, 0, size);
  }
  {
    RawStore raw(dir.path());
    raw.RewriteAsSingles();  // as a build before entry bundles wrote it
    ASSERT_EQ(raw.Keys(kEntriesColumn).size(), size);
    // A conversion that a crash interrupted: its first bundle written, the rest still singles.
    std::vector<ByteView> first(before.begin(), before.begin() + kBundleEntries);
    raw.Put(kEntriesColumn, BundleKey(0), EncodeEntryBundle(first));
    for (uint64_t i = 0; i < kBundleEntries; ++i) raw.Delete(kEntriesColumn, EntryKey(i));
  }
  {
    std::unique_ptr<Log> reader = OpenLog(dir.path(), testing::ReadOnlyLog());
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(ScanAll(*reader, 0, size), before);
    ExpectReadsAgree(*reader);
  }
  {
    RawStore raw(dir.path());
    EXPECT_EQ(raw.Keys(kEntriesColumn).size(), size - kBundleEntries + 1) << "read-only: unchanged";
    EXPECT_EQ(raw.Get(kMetaColumn, kMetaFormat), kLogFormatSingles);
  }
  {
    std::unique_ptr<Log> writer = OpenLog(dir.path());
    ASSERT_NE(writer, nullptr);
    EXPECT_EQ(ScanAll(*writer, 0, size), before);
    AppendGroups(*writer, {2});
    ExpectReadsAgree(*writer);
  }
  RawStore raw(dir.path());
  EXPECT_EQ(raw.Keys(kEntriesColumn), BundleLayout(size + 2));
  EXPECT_EQ(raw.Get(kMetaColumn, kMetaFormat), kLogFormat);
}

// Where entry `index`'s bytes start inside the stored value of its bundle.
size_t OffsetInBundle(const std::string& bundle, uint64_t index) {
  size_t at = 0;
  for (uint64_t i = BundleStart(index); i < index; ++i) {
    at += kBundleLengthBytes +
          (size_t{static_cast<uint8_t>(bundle[at])} << 8 | static_cast<uint8_t>(bundle[at + 1]));
  }
  return at + kBundleLengthBytes;
}

TEST(EntryBundles, AByteChangedInsideAStoredBundleIsNamedAtItsEntry) {
  TempDir dir;
  { CreateLogWith(dir.path(), {600}); }
  for (uint64_t index : {3u, 100u, 255u, 300u}) {
    std::string original;
    {
      RawStore raw(dir.path());
      original = raw.Get(kEntriesColumn, BundleKey(BundleStart(index)));
      std::string bundle = original;
      bundle[OffsetInBundle(bundle, index) + 17] ^= 0x04;
      raw.Put(kEntriesColumn, BundleKey(BundleStart(index)), bundle);
    }
    {
      std::unique_ptr<Log> log = OpenLog(dir.path(), ReadOnlyUnchecked());
      ASSERT_NE(log, nullptr);
      VerifyReport report = VerifyChain(*log, {});
      EXPECT_FALSE(report.valid);
      EXPECT_EQ(report.bad_index, index) << report.reason;
      VerifyOptions in_order;
      in_order.chunk_log2 = 63;  // one entry after another, reading ahead on a second thread
      report = VerifyChain(*log, in_order);
      EXPECT_FALSE(report.valid);
      EXPECT_EQ(report.bad_index, index) << report.reason;
    }
    RawStore raw(dir.path());
    raw.Put(kEntriesColumn, BundleKey(BundleStart(index)), original);
  }
  std::unique_ptr<Log> log = OpenLog(dir.path(), ReadOnlyUnchecked());
  EXPECT_TRUE(VerifyChain(*log, {}).valid);
}

TEST(EntryBundles, ABundleCutShortOrAnEntryStoredTwiceIsRefusedNamingIt) {
  TempDir dir;
  { CreateLogWith(dir.path(), {600}); }
  std::string bundle;
  {
    RawStore raw(dir.path());
    bundle = raw.Get(kEntriesColumn, BundleKey(256));
    raw.Put(kEntriesColumn, BundleKey(256), bundle.substr(0, OffsetInBundle(bundle, 400) + 5));
  }
  {
    std::unique_ptr<Log> log = OpenLog(dir.path(), ReadOnlyUnchecked());
    ASSERT_NE(log, nullptr);
    Result<Bytes> read = log->ReadEntry(400);
    ASSERT_FALSE(read.ok());
    EXPECT_NE(read.status().message().find("entries 256..511 ends inside entry 400"),
              std::string::npos)
        << read.status().message();
    EXPECT_FALSE(VerifyChain(*log, {}).valid);
  }
  {
    RawStore raw(dir.path());
    raw.Put(kEntriesColumn, BundleKey(256), bundle);
    raw.Put(kEntriesColumn, EntryKey(256), raw.GetEntry(256));  // beside its bundle
  }
  std::unique_ptr<Log> log = OpenLog(dir.path(), ReadOnlyUnchecked());
  ASSERT_NE(log, nullptr);
  Status scanned =
      log->ScanEntries(0, log->size(), [](uint64_t, ByteView) { return Status::Ok(); });
  EXPECT_NE(scanned.message().find("entry 256 is stored twice"), std::string::npos)
      << scanned.ToString();
  EXPECT_FALSE(VerifyChain(*log, {}).valid);
}

}  // namespace
}  // namespace fundledger
