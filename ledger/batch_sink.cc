#include "ledger/batch_sink.h"

#include <algorithm>

namespace fundledger {

void BatchSink::Put(std::string_view key, std::string_view value) {
  rows_.push_back(
      Row{bytes_.size(), static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())});
  bytes_.append(key);
  bytes_.append(value);
}

void BatchSink::Flush() {
  // Stable: of the rows with one key, the last written stays last.
  std::stable_sort(rows_.begin(), rows_.end(),
                   [&](const Row& a, const Row& b) { return Key(a) < Key(b); });
  for (size_t i = 0; i < rows_.size(); ++i) {
    std::string_view key = Key(rows_[i]);
    if (i + 1 < rows_.size() && Key(rows_[i + 1]) == key) continue;
    batch_.Put(cf_, rocksdb::Slice(key.data(), key.size()),
               rocksdb::Slice(bytes_.data() + rows_[i].at + key.size(), rows_[i].value_size));
  }
  rows_.clear();
  bytes_.clear();
}

}  // namespace fundledger
