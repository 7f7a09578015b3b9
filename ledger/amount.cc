#include "ledger/amount.h"

#include <charconv>
#include <cstdio>

#include "ledger/rule_code.h"

namespace fundledger {

Status AmountOverflow(std::string_view what) {
  return RuleError(RuleCode::kAmountOverflow,
                   std::string(what) + " would overflow a 64-bit count of fen");
}

Result<Amount> Amount::Plus(Amount other) const {
  int64_t out = 0;
  if (__builtin_add_overflow(fen_, other.fen_, &out)) return AmountOverflow("a sum of amounts");
  return Amount(out);
}

Result<Amount> Amount::Minus(Amount other) const {
  int64_t out = 0;
  if (__builtin_sub_overflow(fen_, other.fen_, &out)) {
    return AmountOverflow("a difference of amounts");
  }
  return Amount(out);
}

Result<Amount> Amount::Times(int64_t factor) const {
  int64_t out = 0;
  if (__builtin_mul_overflow(fen_, factor, &out)) return AmountOverflow("a multiple of an amount");
  return Amount(out);
}

Result<Amount> Amount::Negated() const { return Amount::Zero().Minus(*this); }

bool Amount::TryAdd(Amount other) {
  int64_t out = 0;  // the builtin stores the wrapped sum even when it reports an overflow
  if (__builtin_add_overflow(fen_, other.fen_, &out)) return false;
  fen_ = out;
  return true;
}

bool Amount::TrySubtract(Amount other) {
  int64_t out = 0;
  if (__builtin_sub_overflow(fen_, other.fen_, &out)) return false;
  fen_ = out;
  return true;
}

std::string Amount::ToYuan() const {
  bool negative = fen_ < 0;
  // Through unsigned: the magnitude of INT64_MIN does not fit an int64_t.
  uint64_t abs = negative ? 0 - static_cast<uint64_t>(fen_) : static_cast<uint64_t>(fen_);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", negative ? "-" : "",
                static_cast<unsigned long long>(abs / 100),
                static_cast<unsigned long long>(abs % 100));
  return buf;
}

std::string Amount::ToYuanGrouped() const {
  std::string plain = ToYuan();
  size_t start = plain[0] == '-' ? 1 : 0;
  size_t dot = plain.find('.');
  std::string out = plain.substr(0, start);
  for (size_t i = start; i < dot; ++i) {
    if (i > start && (dot - i) % 3 == 0) out += ',';
    out += plain[i];
  }
  out += plain.substr(dot);
  return out;
}

Result<Amount> Amount::ParseYuan(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("'" + std::string(text.substr(0, 40)) +
                           "' is not an amount in yuan with at most 2 decimals");
  };
  if (text.empty() || text.size() > 20) return bad();
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || frac.size() > 2 || (dot != std::string_view::npos && frac.empty())) {
    return bad();
  }
  for (char c : whole) {
    if (c < '0' || c > '9') return bad();
  }
  int64_t yuan = 0;
  auto r = std::from_chars(whole.data(), whole.data() + whole.size(), yuan);
  if (r.ec != std::errc() || r.ptr != whole.data() + whole.size()) return bad();
  int64_t fen = 0;
  for (size_t i = 0; i < 2; ++i) {
    char c = i < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return bad();
    fen = fen * 10 + (c - '0');
  }
  int64_t total = 0;
  if (__builtin_mul_overflow(yuan, 100, &total) || __builtin_add_overflow(total, fen, &total)) {
    return bad();
  }
  return Amount(total);
}

}  // namespace fundledger
