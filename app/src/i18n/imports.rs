//! Messages of bulk import (issue 31): the codes of a refused row in an error report, and of a
//! mapping or file that cannot be imported.

use crate::domain::Lang;

/// The message for an import code, or `None` when the code is not one of import's.
pub fn import_message(lang: Lang, code: &str) -> Option<&'static str> {
    Some(match (lang, code) {
        (Lang::Ja, "external_id_missing") => "外部 ID の列が空です。",
        (Lang::En, "external_id_missing") => "The external id is empty.",
        (Lang::Ja, "unknown_consent_value") => {
            "同意の値は granted/withdrawn、yes/no、1/0、true/false、opt-in/opt-out のいずれか（空欄は変更なし）です。"
        }
        (Lang::En, "unknown_consent_value") => {
            "A consent value is granted/withdrawn, yes/no, 1/0, true/false or opt-in/opt-out (empty: no change)."
        }
        (Lang::Ja, "malformed_time") => {
            "日時は RFC 3339（2024-04-01T09:30:00+09:00）か日付（2024-04-01）で書いてください。"
        }
        (Lang::En, "malformed_time") => {
            "A time is RFC 3339 (2024-04-01T09:30:00+09:00) or a date (2024-04-01)."
        }
        (Lang::Ja, "erased_subject") => "この対象者は本人の求めにより消去されています。",
        (Lang::En, "erased_subject") => "This subject was erased at their request.",
        (Lang::Ja, "malformed_row") => {
            "この行を読めません（CSV または JSON の形式が正しくありません）。"
        }
        (Lang::En, "malformed_row") => "This row cannot be read (malformed CSV or JSON).",
        (Lang::Ja, "malformed_mapping") => {
            "対応付けは 項目=列名 の形で書いてください（例: --map email=Email）。"
        }
        (Lang::En, "malformed_mapping") => {
            "A mapping is field=Column (for example --map email=Email)."
        }
        (Lang::Ja, "malformed_consent_mapping") => {
            "同意の対応付けは 利用目的:連絡手段=列名 の形で書いてください（例: --consent newsletter:email=NL_Optin）。"
        }
        (Lang::En, "malformed_consent_mapping") => {
            "A consent mapping is purpose:channel=Column (for example --consent newsletter:email=NL_Optin)."
        }
        (Lang::Ja, "unknown_mapping_field") => {
            "対応付けられる項目は external_id、email、phone、lang、jurisdiction です。"
        }
        (Lang::En, "unknown_mapping_field") => {
            "The fields that can be mapped are external_id, email, phone, lang and jurisdiction."
        }
        (Lang::Ja, "duplicate_mapping") => "同じ項目が 2 回対応付けられています。",
        (Lang::En, "duplicate_mapping") => "The same field is mapped twice.",
        (Lang::Ja, "external_id_unmapped") => {
            "外部 ID の列を指定してください（--map external_id=列名）。"
        }
        (Lang::En, "external_id_unmapped") => {
            "Name the external id's column (--map external_id=Column)."
        }
        (Lang::Ja, "missing_column") => "対応付けた列がファイルにありません。",
        (Lang::En, "missing_column") => "A mapped column is not in the file.",
        (Lang::Ja, "channel_not_offered") => "この利用目的はその連絡手段では使われていません。",
        (Lang::En, "channel_not_offered") => "This purpose is not offered on that channel.",
        (Lang::Ja, "unknown_import_format") => {
            "ファイルの形式は csv か jsonl です（Content-Type: text/csv または application/x-ndjson）。"
        }
        (Lang::En, "unknown_import_format") => {
            "The file's format is csv or jsonl (Content-Type: text/csv or application/x-ndjson)."
        }
        (Lang::Ja, "unknown_import") => "その取り込みはありません。",
        (Lang::En, "unknown_import") => "There is no such import.",
        (Lang::Ja, "import_refused_row") => "--strict のため、拒否された行で取り込みを止めました。",
        (Lang::En, "import_refused_row") => "Stopped at a refused row (--strict).",
        (Lang::Ja, "import_progress_moved") => {
            "取り込みの進み具合が、この束の書き始めと違っていました（前の束が書けなかったか、同じファイルを別に取り込んでいます）。もう一度実行すると、書き込まれた最後の行の次から続けます。"
        }
        (Lang::En, "import_progress_moved") => {
            "The import's progress was not where this batch starts (the batch before it was not written, or the same file is being imported elsewhere). Run it again to continue after the last line written."
        }
        _ => return super::webhooks::webhook_message(lang, code),
    })
}
