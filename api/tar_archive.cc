#include "api/tar_archive.h"

#include <cassert>
#include <cstring>

namespace fundledger {
namespace {

// `value` in octal, zero-padded to width - 1 digits and a NUL, at `out`; the value must fit.
void Octal(char* out, size_t width, uint64_t value) {
  assert(width - 1 >= 64 / 3 + 1 || value >> (3 * (width - 1)) == 0);
  out[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0; value >>= 3) out[i] = static_cast<char>('0' + (value & 7));
}

}  // namespace

Status TarArchive::Add(std::string_view name, std::string_view bytes, int64_t mtime_s) {
  if (name.empty() || name.size() > kNameBytesMax)
    return InvalidArgument("a tar member's name must be 1.." + std::to_string(kNameBytesMax) +
                           " bytes: " + std::string(name));
  char header[kBlockBytes] = {};
  std::memcpy(header, name.data(), name.size());
  Octal(header + 100, 8, 0644);           // mode
  Octal(header + 108, 8, 0);              // uid
  Octal(header + 116, 8, 0);              // gid
  Octal(header + 124, 12, bytes.size());  // size
  Octal(header + 136, 12, static_cast<uint64_t>(mtime_s < 0 ? 0 : mtime_s));
  std::memset(header + 148, ' ', 8);  // the checksum counts its own field as spaces
  header[156] = '0';                  // a regular file
  std::memcpy(header + 257, "ustar", 6);
  std::memcpy(header + 263, "00", 2);
  unsigned sum = 0;
  for (char ch : header) sum += static_cast<unsigned char>(ch);
  Octal(header + 148, 7, sum);  // six digits and a NUL; the space after them is kept
  bytes_.append(header, kBlockBytes);
  bytes_.append(bytes);
  bytes_.append((kBlockBytes - bytes.size() % kBlockBytes) % kBlockBytes, '\0');
  return Status::Ok();
}

std::string TarArchive::Finish() && {
  bytes_.append(2 * kBlockBytes, '\0');
  return std::move(bytes_);
}

}  // namespace fundledger
