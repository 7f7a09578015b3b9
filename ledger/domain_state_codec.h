// The DomainState as bytes, and back: the domain's part of a snapshot (replay/snapshot.h).
//
// Encoding equal states gives equal bytes (every map is written in key order, whatever its
// hashing), so a test compares two states by their bytes. Decoding never trusts the input: a
// count is bounded by the bytes left, and truncated or malformed bytes are a Corruption.
//
//   std::string bytes = EncodeDomainState(state);
//   Result<DomainState> back = DecodeDomainState(bytes);  // EncodeDomainState(*back) == bytes
//
// Format. Primitives are those of ledger/binary_codec.h: every integer (u64, i64, and i32
// sign-extended) is 8 bytes big-endian; u8 is one byte; str is a u64 length and that many
// bytes; strings is a u64 count and that many str. Records follow one another in this order,
// each list a u64 count followed by its records:
//
//   u64 next_index                          entries applied
//   fund*        ascending id   str id, str name, u8 kind (fb::FundKind), str organisation,
//                               strings programs, strings purposes, str bank_account_token,
//                               strings buckets, u8 closed,
//                               u64 n, n x (str bucket, str category): lottery buckets, ascending
//   program*     ascending id   str id, str name, u8 category (fb::ProgramCategory),
//                               u8 period (fb::PaymentPeriod),
//                               u64 n, n x (i32 effective_month, i64 standard_fen, i64 cap_fen,
//                               u64 index, str document): every term, in the order recorded,
//                               strings excludes, i32 age_min_years, i32 age_max_years,
//                               i32 payments_max, i32 payments_window_months
//   beneficiary* ascending id   str id, str household, str region, str id_commitment (32 bytes),
//                               i32 birth_month, i32 birth_date, u8 payee_role (fb::PayeeRole),
//                               str bank_account_token, i32 registered_date,
//                               u64 n, n x (i32 effective_date, u8 status, u64 index),
//                               u8 erased, u64 registered_index
//   enrollment*  ascending key  str key (beneficiary 0x1F program),
//                               u64 n, n x (i32 from_month, i32 to_month, i64 monthly_amount_fen,
//                               i32 age_extension_to_month, str age_extension_doc)
//   programs_of* ascending id   str beneficiary, strings programs (in the order enrolled)
//   balance*     ascending key  str account, i64 posted_fen, i64 pending_fen
//   batch*       ascending id   str id, str maker, str fund, str bucket, i32 period,
//                               u64 prepared_index, u64 decided_index, u8 status (BatchStatus),
//                               i64 total_fen, u64 chunks, u64 chunks_seen,
//                               u64 n, n x line (in the batch's order)
//     line                      u64 line_no, str beneficiary, str program, i32 period,
//                               i64 amount_fen, u8 state (LineState)
//   slot*        ascending key  str key (beneficiary 0x1F program 0x1F decimal period),
//                               str batch, u64 line_no: the live line holding the slot
//   correction*  ascending idx  u64 entry index, str batch, u64 line_no, u8 kind (CorrectionKind),
//                               u8 from (LineState), i64 amount_fen, i64 recovered_fen before,
//                               u64 latest before (UINT64_MAX: none): a return, reissue or
//                               recovery of a roll line (line_corrections.h)
//   history*     ascending      str batch, u64 line_no, i64 recovered_fen, u64 latest
//                (batch, line)  (UINT64_MAX: none): each corrected line
//   commitment*  ascending key  str id commitment (hex), str beneficiary
//   reversible*  ascending idx  u64 entry index,
//                               u64 n, n x (str account, i64 posted_delta_fen,
//                               i64 pending_delta_fen)
//   reversed*    ascending      u64 entry index
//   erased       ascending      strings subjects
//   disclosure*  log order      str organisation, str fund, str period, str schedule_item,
//                               u64 index, i64 timestamp_ms, u64 corrects_index
//   key*         ascending id   str key id, str actor, u64 n, n x u8 role (fb::Role),
//                               str public key (32 bytes), u64 registered_index,
//                               u64 revoked_index (UINT64_MAX: current)
//   u64 signing required from   the index after SigningRequired (UINT64_MAX: not required)
//   batch key*   ascending id   str batch, str key id: the key that signed the roll
//
// Names are written out in full (never as the in-memory NameId numbers), so the bytes do not
// depend on the order names were interned in.
//
// Version. The bytes carry no version of their own: they are one field of a snapshot, whose
// magic (`FLSNAP05`, replay/snapshot.h) versions them. Any change to this layout needs a new
// snapshot magic; a ledger skips a snapshot it cannot read and replays from entry 0.
//
// Thread safety: pure functions; the caller holds the domain's gate (Domain::SaveState,
// Domain::LoadState).
#pragma once

#include <string>
#include <string_view>

#include "ledger/domain_state.h"

namespace fundledger {

std::string EncodeDomainState(const DomainState& state);
Result<DomainState> DecodeDomainState(std::string_view bytes);

}  // namespace fundledger
