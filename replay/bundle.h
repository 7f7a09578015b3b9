// Audit bundles: a self-contained copy of (part of) a log that an auditor verifies on their
// own machine with no database and nothing from the bureau but the files.
//
// Layout (C2SP tlog-tiles, so generic transparency-log tools can read it):
//   manifest.json          {"format": "fundledger-audit-bundle-v1", "origin": "...", "vkey": "...",
//                           "from": F, "to": T, "checkpoints": [sizes], "exported_ms": ...}
//   vkey                   <origin>+<key id>+<base64(0x01 || Ed25519 public key)>, one line
//   checkpoint             the C2SP signed checkpoint at size T
//   checkpoints/<size>     every signed checkpoint with F < size <= T, plus the last one <= F,
//                          as served; <size> is 20 zero-padded decimal digits
//   tile/entries/<N>[.p/W] entry bundles for entries [F, T): each entry as a big-endian u16
//                          length and its bytes, 256 per full bundle
//   tile/<L>/<N>[.p/W]     every hash tile of the tree of size T: level L holds the hashes of
//                          tree level 8L, 32 bytes each, 256 per full tile
// F is a multiple of 256 (`from` rounded down) and T a size at which the log signed a
// checkpoint. Tile paths: N in groups of three digits, all but the last prefixed with `x`
// (x001/x234/067); `.p/W` for a partial tile of width W (crypto/tlog_tiles.h). How an auditor
// verifies a bundle without this code: replay/README.md.
//
//   Result<BundleManifest> m = ExportBundle(log, "/media/audit-2025", 0, std::nullopt);
//   Result<std::unique_ptr<BundleSource>> b = BundleSource::Open("/media/audit-2025");
//   VerifyReport r = VerifyChain(**b, {...});
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypto/checkpoint.h"
#include "ledger/log_source.h"
#include "replay/rebuild.h"

namespace fundledger {

inline constexpr std::string_view kBundleFormat = "fundledger-audit-bundle-v1";

struct BundleManifest {
  std::string origin;
  std::string vkey;
  uint64_t from = 0;
  uint64_t to = 0;
  std::vector<uint64_t> checkpoints;
  int64_t exported_ms = 0;
};

// Writes a bundle of entries [from, to) of `log` (to: the latest checkpoint's size if absent).
Result<BundleManifest> ExportBundle(const LogSource& log, const std::string& out_dir, uint64_t from,
                                    std::optional<uint64_t> to,
                                    const std::function<void(uint64_t)>& progress = nullptr);

// A bundle directory read as a LogSource. Entries before `from` are absent (ScanEntries over
// them fails); tree nodes at any level come from the hash tiles.
class BundleSource final : public LogSource {
 public:
  static Result<std::unique_ptr<BundleSource>> Open(const std::string& dir);

  const BundleManifest& manifest() const { return manifest_; }
  const std::string& dir() const { return dir_; }
  Result<std::string> LatestCheckpoint() const;

  uint64_t size() const override { return manifest_.to; }
  Status ScanEntries(uint64_t begin, uint64_t end,
                     const std::function<Status(uint64_t, ByteView)>& fn) const override;
  Status ScanCheckpoints(
      const std::function<Status(uint64_t, std::string_view)>& fn) const override;
  Result<Hash> ReadNode(uint8_t level, uint64_t index) const override;

 private:
  BundleSource() = default;
  Result<std::string> Tile(int level, uint64_t index) const;  // cached

  std::string dir_;
  BundleManifest manifest_;
  mutable std::mutex mu_;
  mutable std::map<std::pair<int, uint64_t>, std::string> tiles_;
};

struct BundleVerifyOptions {
  std::optional<NoteVerifier> trusted_key;        // --vkey: must be the bundle's key
  std::optional<std::string> trusted_checkpoint;  // a signed checkpoint kept from an earlier visit
  std::function<void(uint64_t)> progress;
};

enum class VerifyStatus { kValid, kInvalid, kUnusable };

struct BundleVerifyReport {
  VerifyStatus status = VerifyStatus::kUnusable;
  uint64_t bad_index = 0;
  std::string reason;
  uint64_t from = 0, to = 0;
  uint64_t checkpoints = 0;         // signed checkpoints verified
  uint64_t consistency_proofs = 0;  // between successive checkpoints, and from the trusted one
  std::string origin, vkey;
  Hash root{};
  std::optional<RebuildReport> rebuilt;  // projections, when the bundle starts at entry 0
};

// Verifies a bundle: every entry's structure, the chain, the tree against its tiles, each
// signed checkpoint, consistency between successive checkpoints and from the trusted one (a
// rolled-back or forked log fails), then rebuilds the projections.
BundleVerifyReport VerifyBundle(const std::string& dir, const BundleVerifyOptions& options);

}  // namespace fundledger
