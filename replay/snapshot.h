// Snapshots: the domain state and the projection caches at a log size, so that opening a
// ledger or rebuilding its projections replays only the tail.
//
// File <data dir>/snapshots/<size, 20 zero-padded digits>.snap (big-endian integers):
//   "FLSNAP05"  u64 size  32-byte leaf hash of entry size-1  u64 domain bytes  domain
//   u64 projection bytes  projections  64-byte Ed25519 signature
// "FLSNAP" and two digits name the format. The domain and projection bytes are
// Domain::SaveState and Projections::SaveState. The signature, by the log's own key, covers
// "fundledger snapshot v1\n" || SHA-256 of all that precedes it. A snapshot is used only if
// its signature verifies with the log's key and its leaf hash equals the log's leaf hash at
// that index: it cannot be forged, nor applied to another log or to a log that was rewritten.
// Files are written to a temporary name, synced and renamed, so a crash leaves the old
// snapshot or the new one. A snapshot of another format is refused, saying which format it
// has and which this build reads; a ledger skips it and replays from entry 0.
#pragma once

#include <optional>
#include <string>

#include "ledger/ledger.h"
#include "projections/projections.h"

namespace fundledger {

inline constexpr std::string_view kSnapshotMagicPrefix = "FLSNAP";
inline constexpr std::string_view kSnapshotMagic = "FLSNAP05";  // the format this build writes
static_assert(kSnapshotMagic.size() == 8 && kSnapshotMagic.starts_with(kSnapshotMagicPrefix),
              "a snapshot opens with eight bytes: FLSNAP and the format in two digits");

std::string SnapshotDir(const std::string& data_dir);  // <dir>/snapshots

struct SnapshotInfo {
  std::string path;
  uint64_t size = 0;  // entries covered: [0, size)
};

// Writes a snapshot of `domain` and `projections`, which must reflect exactly the first
// log.size() entries.
Result<SnapshotInfo> WriteSnapshot(const std::string& data_dir, const Log& log,
                                   const NoteSigner& signer, const Domain& domain,
                                   const Projections& projections);
// Checks a snapshot against `log` and loads it into `domain` and `projections`.
Result<SnapshotInfo> LoadSnapshot(const std::string& path, const LogSource& log,
                                  const NoteVerifier& key, Domain& domain,
                                  Projections& projections);
// The newest snapshot in the data dir that fits `log`, loaded; nullopt when there is none.
Result<std::optional<SnapshotInfo>> LoadLatestSnapshot(const std::string& data_dir, const Log& log,
                                                       Domain& domain, Projections& projections);
// Adds snapshot restore to ledger options (with WithProjections for the same projections).
LedgerOptions WithSnapshots(const std::string& data_dir, Projections& projections,
                            LedgerOptions options);

}  // namespace fundledger
