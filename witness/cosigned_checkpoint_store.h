// A witness's durable state: per log, the latest checkpoint it cosigned, in plain files.
//
// Layout of the witness directory (created by Witness::Create):
//   DIR/witness.key                the witness's C2SP signer key, mode 0600 (crypto/key_file.h)
//   DIR/LOCK                       held with flock() by the one process that opened DIR
//   DIR/logs/<sha256(origin) hex>  the latest cosigned checkpoint of that log (below)
//   DIR/evidence/<sha256(origin) hex>
//                                  the first validly signed checkpoint of that log the witness
//                                  refused as inconsistent, with the request that carried it
//
// A log file is the cosigned checkpoint exactly as the witness serves it to monitors: the
// checkpoint text, an empty line, the log's signature line(s) that verified, and the witness's
// own cosignature/v1 line last. Size, root and the last timestamp are read back from it; a
// file without a valid cosignature by this witness is corruption and stops the witness.
//
// Write() is durable before it returns: the text goes to "<file>.tmp", is fsynced, renamed
// over the file and the directory is fsynced, so a crash leaves the old state or the new one,
// never a mix. Files are never deleted: a log dropped from the config and added back later
// resumes from what was cosigned.
//
// Thread safety: Write() and Read() of different origins may run at once; callers serialise
// calls for one origin (the Witness holds that log's lock).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

class CosignedCheckpointStore {
 public:
  // Takes DIR/LOCK (an error if another process holds it) and requires DIR/logs: a witness
  // whose state is gone must not start again from nothing under the same key.
  static Result<CosignedCheckpointStore> Open(const std::string& dir);
  // Creates DIR/logs and DIR/evidence in an existing DIR.
  static Status CreateLayout(const std::string& dir);

  CosignedCheckpointStore(CosignedCheckpointStore&& other) noexcept;
  CosignedCheckpointStore& operator=(CosignedCheckpointStore&&) = delete;
  CosignedCheckpointStore(const CosignedCheckpointStore&) = delete;
  ~CosignedCheckpointStore();

  // The stored cosigned checkpoint of `origin`, or nullopt if it was never cosigned.
  Result<std::optional<std::string>> Read(std::string_view origin) const;
  Status Write(std::string_view origin, std::string_view cosigned_checkpoint);
  // Keeps `request` as evidence unless evidence for `origin` is already kept (bounded: one
  // file per log). Best effort: the answer to the request does not depend on it.
  void KeepEvidenceOnce(std::string_view origin, std::string_view request);

 private:
  CosignedCheckpointStore(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  std::string PathFor(std::string_view subdir, std::string_view origin) const;

  std::string dir_;
  int lock_fd_ = -1;
};

// The lowercase hex SHA-256 of an origin line: the file name above and the spec's monitoring
// path component "<origin hash>".
std::string OriginHashHex(std::string_view origin);

}  // namespace fundledger
