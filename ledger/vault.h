// The personal-data vault: names, ID-card numbers, bank accounts and phone numbers, kept
// only here, never in the log.
//
// Each person (subject id: a beneficiary id, or "donor:<id>") has a random 256-bit key and a
// random 256-bit salt. Their record (the fields and the salt) is sealed with the key
// (AES-256-GCM); the key itself is sealed with the ledger's wrap key, derived from the master
// secret in a file outside the store (mode 0600). The log keeps, of the ID number, only
// IdCommitment = SHA-256("fundledger id v2" 0x00 salt number): with the salt erased, no one,
// master-key holders included, can test a guessed number against it.
//
// Duplicate detection across districts reads the vault's index: IdLookup(number), an
// HMAC-SHA-256 under a key derived from the master secret, names the person holding that
// number. Erasing a person deletes their key, record and index row, in the same commit as the
// Erased entry; the log, which holds only the pseudonymous id and the salted commitment,
// verifies as before. BankToken(account) stays a keyed value in the log (the same account is
// recognised across programs).
//
// Vault column rows:  "k/<subject>"     -> Seal(wrap key, person key, ad "k/<subject>")
//                     "d/<subject>"     -> Seal(person key, record,   ad "d/<subject>")
//                     "i/<lookup, hex>" -> subject (only while the person is not erased)
// record: name, id_number, bank_account, phone, salt (32 bytes), each u32 big-endian length +
// bytes; records sealed before the salt existed end after phone.
//
// Where the master secret lives: ResolveVaultKey, the one rule every command follows. By default
// in DIR.keys/ (0700) beside the data directory DIR, so that a copy or backup of DIR does not
// carry the key that opens every person's record; earlier ledgers kept it at DIR/vault.key,
// which is still found.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crypto/aead.h"
#include "ledger/log.h"

namespace fundledger {

// The environment variable naming the master key file when --vault-key is not given.
inline constexpr const char* kVaultKeyEnv = "FUNDLEDGER_VAULT_KEY";

struct VaultKeyLocation {
  enum class Source {
    kGiven,          // --vault-key (LedgerOptions::vault_key_path)
    kEnvironment,    // $FUNDLEDGER_VAULT_KEY
    kInsideDataDir,  // DIR/vault.key, the layout of earlier ledgers
    kDefault,        // DIR.keys/vault.key
  };
  std::string path;
  Source source = Source::kDefault;
};

// DIR.keys: the default directory of the master key (and of the vault rows a backup keeps
// apart, api/cli_backup.h), a sibling of the data directory; DIR's trailing '/' ignored.
std::string VaultKeyDir(const std::string& data_dir);
// The master key of the ledger at `data_dir`: `given` when not empty, else $FUNDLEDGER_VAULT_KEY
// when set, else DIR/vault.key when that file exists, else VaultKeyDir(DIR)/vault.key.
VaultKeyLocation ResolveVaultKey(const std::string& data_dir, const std::string& given);

struct PersonalData {
  std::string name;
  std::string id_number;
  std::string bank_account;
  std::string phone;
};

class Vault {
 public:
  // Reads the master secret, or creates it (0600, O_EXCL) when `create` and it is absent; then
  // also creates its directory (0700) when that is missing and its parent exists.
  static Result<Vault> Load(const std::string& key_path, bool create);

  static constexpr size_t kSaltBytes = 32;

  // The commitment the log keeps: over the salt and the number (normalised: trimmed, 'x' ->
  // 'X'), domain-separated from every other hash of the ledger.
  static Hash IdCommitment(ByteView salt, std::string_view id_number);
  Hash IdLookup(std::string_view id_number) const;  // the index key: keyed, normalised
  Hash BankToken(std::string_view account) const;   // normalised: digits only

  struct SealedPerson {
    std::vector<VaultWrite> writes;  // key, record and (with an ID number) index row
    Hash id_commitment{};            // for the log entry; zero without an ID number
  };
  // Seals `data` for `subject` under a fresh key and salt.
  Result<SealedPerson> Seal(std::string_view subject, const PersonalData& data) const;
  // The subject the index names for this ID number, or nullopt when no (non-erased) person
  // holds it.
  Result<std::optional<std::string>> FindPerson(const Log& log, std::string_view id_number) const;
  // The vault writes that destroy `subject`'s key, record and index row.
  Result<std::vector<VaultWrite>> EraseWrites(const Log& log, std::string_view subject) const;
  // Reads and opens a subject's record from the store.
  Result<PersonalData> Read(const Log& log, std::string_view subject) const;

 private:
  Vault() = default;
  AeadKey wrap_key_{};
  Bytes lookup_key_;
  Bytes bank_key_;
};

// Validates an 18-character resident ID number (17 digits and a digit or X, with its ISO
// 7064 check character), so a typing mistake is caught before a commitment is made.
Status CheckIdNumber(std::string_view id_number);

}  // namespace fundledger
