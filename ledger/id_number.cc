#include "ledger/id_number.h"

#include "ledger/events.h"
#include "ledger/vault.h"

namespace fundledger {

Result<int32_t> IdNumberBirthDate(std::string_view id_number) {
  FL_RETURN_IF_ERROR(CheckIdNumber(id_number));  // 17 digits and the check character
  constexpr size_t kBirthDateAt = 6, kBirthDateDigits = 8;
  int32_t date = 0;
  for (char c : id_number.substr(kBirthDateAt, kBirthDateDigits)) date = date * 10 + (c - '0');
  if (!IsValidDate(date)) {
    return InvalidArgument("ID number digits 7-14 are not a birth date yyyymmdd")
        .WithField("id_number");
  }
  return date;
}

}  // namespace fundledger
