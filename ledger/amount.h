// Amount: money as a signed 64-bit count of fen (分), the only unit the ledger knows.
//
// No floating point ever touches money. Every sum, difference and product of amounts goes
// through the checked operations below: an overflow is an error value (rule
// `amount_overflow`), never a wrap and never undefined behaviour. Code that combines amounts
// from an imported log turns that error into a Corruption naming the entry.
//
//   Result<Amount> total = Amount::Fen(104500).Plus(Amount::Fen(50));
//   if (!total.ok()) return total.status();
//   std::string shown = total->ToYuan();  // "1045.50"
//
// A plain value type: safe to copy and use from any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

class Amount {
 public:
  constexpr Amount() = default;
  static constexpr Amount Fen(int64_t fen) { return Amount(fen); }
  static constexpr Amount Zero() { return Amount(0); }

  constexpr int64_t fen() const { return fen_; }
  constexpr bool IsZero() const { return fen_ == 0; }
  constexpr bool IsNegative() const { return fen_ < 0; }
  constexpr auto operator<=>(const Amount&) const = default;

  // Checked arithmetic: the error is a rule violation `amount_overflow`.
  Result<Amount> Plus(Amount other) const;
  Result<Amount> Minus(Amount other) const;
  Result<Amount> Times(int64_t factor) const;
  Result<Amount> Negated() const;
  // In place, for loops that report an overflow once: false leaves *this unchanged.
  [[nodiscard]] bool TryAdd(Amount other);
  [[nodiscard]] bool TrySubtract(Amount other);

  // "1045.00", "-3.50", "0.07": yuan with exactly two decimals, no separators.
  std::string ToYuan() const;
  // "1,045.00": yuan with thousands separators, for people.
  std::string ToYuanGrouped() const;
  // "1045", "1045.5", "1045.50" -> fen, exact; anything else (sign, exponent, more than two
  // decimals, separators) is InvalidArgument. Locale-tolerant spellings (¥, commas) are the
  // roll parser's business, which strips them before calling this.
  static Result<Amount> ParseYuan(std::string_view text);

 private:
  constexpr explicit Amount(int64_t fen) : fen_(fen) {}
  int64_t fen_ = 0;
};

// The error every checked operation returns on overflow; `what` says which sum.
Status AmountOverflow(std::string_view what);

}  // namespace fundledger
