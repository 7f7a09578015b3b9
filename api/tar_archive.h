// TarArchive: files gathered into one POSIX ustar archive in memory, so a directory (an audit
// bundle) can be one HTTP answer that `tar -xf` unpacks anywhere. Format (POSIX.1-1988
// ustar): per file a 512-byte header (name, mode 0644, size and mtime in octal, type '0',
// magic "ustar\0" "00", the header's checksum) and its bytes padded to 512; two zero blocks
// end the archive. Names are at most 100 bytes, with '/' between folders (tar makes them).
//
//   TarArchive tar;
//   FL_RETURN_IF_ERROR(tar.Add("manifest.json", text, mtime_s));
//   std::string bytes = std::move(tar).Finish();
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

class TarArchive {
 public:
  static constexpr size_t kNameBytesMax = 100;
  static constexpr size_t kBlockBytes = 512;

  // InvalidArgument when the name is empty or longer than kNameBytesMax.
  Status Add(std::string_view name, std::string_view bytes, int64_t mtime_s);
  size_t size() const { return bytes_.size(); }
  std::string Finish() &&;

 private:
  std::string bytes_;
};

}  // namespace fundledger
