// SharedFile: a small file beside the store that the server and the CLI both rewrite: the
// token table, published report texts, rejected rolls' reports.
//
// Every change is a read-modify-write under an exclusive flock on `<path>.lock` (created
// 0600, never deleted: deleting a lock file lets two writers lock different inodes), so
// changes from concurrent processes and threads run one after another and none is lost. The
// new text goes to `<path>.tmp` (mode `mode`, set with fchmod so the umask does not matter),
// is fsynced, renamed over `<path>`, and the directory is fsynced: a crash leaves the old text
// or the new, never a mix, and a rename that returned survives power loss. Readers need no
// lock: they see one whole version or the other.
//
// Thread safety: any number of SharedFile objects, in any processes, may name the same path.
//
//   SharedFile tokens(dir + "/tokens", "the token table");
//   FL_RETURN_IF_ERROR(tokens.Update([&](std::string_view now) -> Result<std::string> {
//     return now + line;   // `now` is "" when the file does not exist yet
//   }));
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

class SharedFile {
 public:
  // `what` names the file in errors ("the token table").
  SharedFile(std::string path, std::string what, mode_t mode = 0600);

  // Under the lock: reads the file, calls `change` with its text, and replaces the file with
  // what `change` returns. An error from `change` leaves the file as it was.
  Status Update(const std::function<Result<std::string>(std::string_view now)>& change) const;
  // Replaces the whole file with `text`, under the lock.
  Status Replace(std::string_view text) const;
  // The file's text ("" when it does not exist), without the lock: one whole version.
  Result<std::string> Read() const;

  const std::string& path() const { return path_; }

 private:
  Status WriteLocked(std::string_view text) const;  // REQUIRES: the lock is held

  std::string path_;
  std::string what_;
  mode_t mode_;
};

// Calls `each` with every non-empty line of a table's text (one record a line, as the token and
// account tables are) and its 1-based line number; stops at the first error and returns it.
Status ForEachTableLine(std::string_view text,
                        const std::function<Status(std::string_view line, uint64_t line_no)>& each);

// Creates `dir` (and its parents) with mode 0700 whatever the umask; an existing directory
// is left as it is.
Status MakePrivateDirectory(const std::string& dir, std::string_view what);

}  // namespace fundledger
