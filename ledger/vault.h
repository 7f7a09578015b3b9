// The personal-data vault: names, ID-card numbers, bank accounts and phone numbers, kept
// only here, never in the log.
//
// Each person (subject id: a beneficiary id, or "donor:<id>") has a random 256-bit key. Their
// record is sealed with it (AES-256-GCM); the key itself is sealed with the ledger's wrap key,
// derived from the master secret in a file outside the store (mode 0600). Erasing a person
// deletes both sealed values: the record can no longer be read, while the log, which holds
// only the pseudonymous id and keyed commitments, verifies as before.
//
// The same master secret derives the commitment key: IdCommitment(id number) and
// BankToken(account) are HMAC-SHA-256 values, so the same person or account is recognised
// across districts and programs without the number itself ever being stored.
//
// Vault column rows:  "k/<subject>" -> Seal(wrap key, person key, ad "k/<subject>")
//                     "d/<subject>" -> Seal(person key, record,   ad "d/<subject>")
#pragma once

#include <string>

#include "crypto/aead.h"
#include "ledger/log.h"

namespace fundledger {

struct PersonalData {
  std::string name;
  std::string id_number;
  std::string bank_account;
  std::string phone;
};

class Vault {
 public:
  // Reads the master secret, or creates it (0600, O_EXCL) when `create` and it is absent.
  static Result<Vault> Load(const std::string& key_path, bool create);

  Hash IdCommitment(std::string_view id_number) const;  // normalised: trimmed, 'x' -> 'X'
  Hash BankToken(std::string_view account) const;       // normalised: digits only

  // The vault writes that store `data` for `subject`.
  Result<std::vector<VaultWrite>> Seal(std::string_view subject, const PersonalData& data) const;
  // The vault writes that destroy `subject`'s key and record.
  static std::vector<VaultWrite> EraseWrites(std::string_view subject);
  // Reads and opens a subject's record from the store.
  Result<PersonalData> Read(const Log& log, std::string_view subject) const;

 private:
  Vault() = default;
  AeadKey wrap_key_{};
  Bytes commitment_key_;
};

// Validates an 18-character resident ID number (17 digits and a digit or X, with its ISO
// 7064 check character), so a typing mistake is caught before a commitment is made.
Status CheckIdNumber(std::string_view id_number);

}  // namespace fundledger
