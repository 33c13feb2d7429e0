//! The message for each stable error code, in Japanese and English. Messages only the server gives
//! stay out of the browser's bundle.

use crate::domain::Lang;

/// Messages for errors, by their stable code.
pub fn error_message(lang: Lang, code: &str) -> &'static str {
    match (lang, code) {
        (Lang::Ja, "invalid_token") => {
            "このリンクは無効です。メールに記載されたリンクをそのまま開いてください。"
        }
        (Lang::En, "invalid_token") => {
            "This link is not valid. Please open the link exactly as it appears in your message."
        }
        (Lang::Ja, "expired_token") => "このリンクは有効期限が切れています。",
        (Lang::En, "expired_token") => "This link has expired.",
        (Lang::Ja, "grant_confirmation_mailed") => {
            "リンクからのこの同意には、ご本人の確認が必要です。登録のメールアドレスに確認のメールを送りました。メールのリンクを開き「同意する」を押すと反映されます。"
        }
        (Lang::En, "grant_confirmation_mailed") => {
            "Allowing this through a link needs your confirmation: we sent a mail to your address. Open its link and press \"Allow\" to apply it."
        }
        (Lang::Ja, "grant_link_invalid") => "この確認リンクは無効です。",
        (Lang::En, "grant_link_invalid") => "This confirmation link is not valid.",
        (Lang::Ja, "grant_link_used") => {
            "この確認リンクは使用済みか、その後に設定が変更されたため使えません。"
        }
        (Lang::En, "grant_link_used") => {
            "This confirmation link was used already, or the choice changed since it was sent."
        }
        (Lang::Ja, "marketing_objection") => {
            "広告・宣伝の停止を求めているため、同意できません。先に配信設定ページで停止の求めを解除してください。"
        }
        (Lang::En, "marketing_objection") => {
            "You objected to all marketing, so this cannot be allowed. Lift your objection on your preference page first."
        }
        (Lang::Ja, "no_email_to_confirm") => {
            "確認のメールを送るメールアドレスが登録されていないため、この操作はできません。"
        }
        (Lang::En, "no_email_to_confirm") => {
            "This needs a confirmation by email, and no email address is registered for you."
        }
        (Lang::Ja, "link_revoked") => {
            "このリンクは無効になりました（ご本人またはご依頼によりリンクが取り消されました）。新しいリンクをメールで受け取ってください。"
        }
        (Lang::En, "link_revoked") => {
            "This link no longer works: the links sent to this person were revoked. Get a fresh one by email."
        }
        (Lang::Ja, "unknown_subject") => "このリンクの宛先は登録されていません。",
        (Lang::En, "unknown_subject") => "The person this link was made for is not registered.",
        (Lang::Ja, "unknown_purpose") => "指定された利用目的はありません。",
        (Lang::En, "unknown_purpose") => "There is no such purpose.",
        (Lang::Ja, "unknown_channel") => "指定された連絡手段はありません。",
        (Lang::En, "unknown_channel") => "There is no such channel.",
        (Lang::Ja, "channel_not_applicable") => "この利用目的はその連絡手段には使われません。",
        (Lang::En, "channel_not_applicable") => "This purpose is not used on that channel.",
        (Lang::Ja, "unknown_state") => {
            "値は granted（同意）か withdrawn（撤回）で指定してください。"
        }
        (Lang::En, "unknown_state") => "The value must be granted or withdrawn.",
        (Lang::Ja, "malformed_idempotency_key") => "冪等キーの形式が正しくありません。",
        (Lang::En, "malformed_idempotency_key") => "The idempotency key is malformed.",
        (Lang::Ja, "idempotency_key_reused") => "この冪等キーは別の変更ですでに使われています。",
        (Lang::En, "idempotency_key_reused") => {
            "This idempotency key was already used for a different change."
        }
        (Lang::Ja, "email_taken") => "このメールアドレスはすでに登録されています。",
        (Lang::En, "email_taken") => "This email address is already registered.",
        (Lang::Ja, "external_id_taken") => "この外部 ID はすでに登録されています。",
        (Lang::En, "external_id_taken") => "This external id is already registered.",
        (Lang::Ja, "malformed_email") => "メールアドレスの形式が正しくありません。",
        (Lang::En, "malformed_email") => "The email address is malformed.",
        (Lang::Ja, "malformed_phone") => "電話番号は +81 で始まる国際形式で入力してください。",
        (Lang::En, "malformed_phone") => {
            "The phone number must be in international form, like +81 90 1234 5678."
        }
        (Lang::Ja, "malformed_external_id") => "外部 ID の形式が正しくありません。",
        (Lang::En, "malformed_external_id") => "The external id is malformed.",
        (Lang::Ja, "malformed_campaign") => "キャンペーン ID の形式が正しくありません。",
        (Lang::En, "malformed_campaign") => "The campaign id is malformed.",
        (Lang::Ja, "not_one_click") => "配信停止の要求には List-Unsubscribe=One-Click が必要です。",
        (Lang::En, "not_one_click") => {
            "An unsubscribe request must carry List-Unsubscribe=One-Click."
        }
        (Lang::Ja, "unauthorized") => "有効な API キーが必要です（Authorization: Bearer …）。",
        (Lang::En, "unauthorized") => "A valid API key is required (Authorization: Bearer …).",
        (Lang::Ja, "metrics_token_required") => {
            "メトリクスの取得には metrics_token が必要です（Authorization: Bearer …）。"
        }
        (Lang::En, "metrics_token_required") => {
            "Reading the metrics needs the metrics_token (Authorization: Bearer …)."
        }
        (Lang::Ja, "narrow_link") => {
            "このリンクでは配信停止のみできます。記録のダウンロードは、設定ページの全体リンクかサインインから行ってください。"
        }
        (Lang::En, "narrow_link") => {
            "This link only unsubscribes. To download your record, open your whole preference center or sign in."
        }
        (Lang::Ja, "forbidden_scope") => "この API キーにはこの操作の権限がありません。",
        (Lang::En, "forbidden_scope") => "This API key is not allowed to do this.",
        (Lang::Ja, "unknown_scope") => "権限は links または suppressions で指定してください。",
        (Lang::En, "unknown_scope") => "A scope is links or suppressions.",
        (Lang::Ja, "malformed_key_name") => "API キーの名前は 1〜100 文字で指定してください。",
        (Lang::En, "malformed_key_name") => "An API key's name has 1 to 100 characters.",
        (Lang::Ja, "unknown_subject_key") => "その外部 ID またはメールアドレスの対象者はいません。",
        (Lang::En, "unknown_subject_key") => "There is no subject with that external id or email.",
        (Lang::Ja, "payload_too_large") => "送信されたデータが大きすぎます。",
        (Lang::En, "payload_too_large") => "The request is too large.",
        (Lang::Ja, "not_found") => "お探しのページは見つかりませんでした。",
        (Lang::En, "not_found") => "We could not find that page.",
        (Lang::Ja, "malformed_purpose") => {
            "キーは英小文字で始まり、英小文字・数字・_ だけの 48 文字以内にしてください。"
        }
        (Lang::En, "malformed_purpose") => {
            "A key starts with a lowercase letter and has only lowercase letters, digits and _ (48 at most)."
        }
        (Lang::Ja, "unknown_mode") => "方式はオプトインかオプトアウトを選んでください。",
        (Lang::En, "unknown_mode") => "Choose opt-in or opt-out.",
        (Lang::Ja, "unknown_source") => "指定された経路はありません。",
        (Lang::En, "unknown_source") => "There is no such source.",
        (Lang::Ja, "bad_date") => "日付は YYYY-MM-DD の形式で入力してください。",
        (Lang::En, "bad_date") => "Enter dates as YYYY-MM-DD.",
        (Lang::Ja, "bad_date_range") => "終了日は開始日以降にしてください。",
        (Lang::En, "bad_date_range") => "The end date must not be before the start date.",
        (Lang::Ja, "purpose_kind_required") => {
            "種類を選んでください。どの法律上のルールが適用されるかは種類で決まります。"
        }
        (Lang::En, "purpose_kind_required") => {
            "Choose a kind: it decides which legal rules protect the people who receive this purpose."
        }
        (Lang::Ja, "sign_in_to_confirm") => {
            "この同意をもう一度有効にするには、メールでお送りするリンクからログインしてください（ご本人のメールアドレスであることの確認です）。"
        }
        (Lang::En, "sign_in_to_confirm") => {
            "To allow this again, sign in with the link we email you (it shows the mailbox is yours)."
        }
        (Lang::Ja, "control_characters") => {
            "改行や制御文字は使えません（メールのヘッダーに入る文字列です）。"
        }
        (Lang::En, "control_characters") => {
            "Line breaks and control characters are not allowed (this text goes into mail headers)."
        }
        (Lang::Ja, "purpose_text") => {
            "名前（100 文字まで）と説明（1000 文字まで）を日本語と英語の両方で入力してください。"
        }
        (Lang::En, "purpose_text") => {
            "Give the name (up to 100 characters) and description (up to 1000) in both Japanese and English."
        }
        (Lang::Ja, "purpose_channels") => "チャネルを 1 つ以上選んでください。",
        (Lang::En, "purpose_channels") => "Choose at least one channel.",
        (Lang::Ja, "purpose_ppc_filing") => {
            "個人情報保護委員会への届出は、届出日（YYYY-MM-DD）と届出番号の両方を入力してください。"
        }
        (Lang::En, "purpose_ppc_filing") => {
            "A PPC filing needs both its date (YYYY-MM-DD) and its number."
        }
        (Lang::Ja, "unknown_kind") => "利用目的の種類が正しくありません。",
        (Lang::En, "unknown_kind") => "Unknown kind of purpose.",
        (Lang::Ja, "unknown_jurisdiction") => "法域は jp、eu、us_ca、default のいずれかです。",
        (Lang::En, "unknown_jurisdiction") => "The jurisdiction must be jp, eu, us_ca or default.",
        (Lang::Ja, "unknown_leave_reason") => "理由を選んでください。",
        (Lang::En, "unknown_leave_reason") => "Choose one of the reasons.",
        (Lang::Ja, "leave_text_invalid") => "ご意見は 500 文字までの文章でお願いします。",
        (Lang::En, "leave_text_invalid") => {
            "The text must be at most 500 characters of plain text."
        }
        (Lang::Ja, "no_recent_unsubscribe") => {
            "このリンクで最近配信を停止した記録がないため、理由は保存できませんでした。"
        }
        (Lang::En, "no_recent_unsubscribe") => {
            "This link unsubscribed nothing recently, so there is nothing to give a reason for."
        }
        (Lang::Ja, "unknown_time_zone") => {
            "タイムゾーンは IANA の名前（例: Asia/Tokyo）で指定してください。"
        }
        (Lang::En, "unknown_time_zone") => {
            "The time zone must be an IANA name, such as Asia/Tokyo."
        }
        (Lang::Ja, "rule_jp_advertising_mail_opt_in") => {
            "特定電子メール法 第3条：日本では広告宣伝メール・SMS はオプトイン（事前の同意）でなければ送れません。日本の方式をオプトインにしてください。"
        }
        (Lang::En, "rule_jp_advertising_mail_opt_in") => {
            "Japan's Act on Specified Electronic Mail, Art. 3: advertising email and SMS in Japan need prior consent (opt-in). Set Japan's mode to opt-in."
        }
        (Lang::Ja, "rule_eu_advertising_mail_opt_in") => {
            "ePrivacy 指令 第13条：EU では広告メール・SMS はオプトインです。自社の類似商品についてのソフトオプトインの根拠を記録した場合のみオプトアウトにできます。"
        }
        (Lang::En, "rule_eu_advertising_mail_opt_in") => {
            "ePrivacy Directive Art. 13: advertising email and SMS in the EU need prior consent, unless a soft opt-in basis (the sender's own similar products) is recorded."
        }
        (Lang::Ja, "rule_jp_third_party_needs_filing") => {
            "個人情報保護法 第27条第2項：第三者提供をオプトアウトで行うには、個人情報保護委員会への届出（届出日と番号）の記録が必要です。"
        }
        (Lang::En, "rule_jp_third_party_needs_filing") => {
            "APPI Art. 27(2): opt-out provision to third parties in Japan needs a recorded filing with the Personal Information Protection Commission (date and number)."
        }
        (Lang::Ja, "rule_jp_third_party_needs_notice") => {
            "個人情報保護法 第27条第2項：オプトアウトによる第三者提供の前に、提供する項目・取得方法・提供方法と、事業者の名称・住所・代表者を公表してください（プライバシーポリシーに掲載されます）。"
        }
        (Lang::En, "rule_jp_third_party_needs_notice") => {
            "APPI Art. 27(2): before opt-out provision, publish the data items, how they are acquired and provided, and the sender's name, address and representative (the privacy policy shows them)."
        }
        (Lang::Ja, "rule_jp_third_party_forbidden") => {
            "個人情報保護法 第27条第2項ただし書：要配慮個人情報、不正に取得したデータ、オプトアウトで提供を受けたデータは、オプトアウトで第三者提供できません。"
        }
        (Lang::En, "rule_jp_third_party_forbidden") => {
            "APPI Art. 27(2) proviso: special care-required data, improperly acquired data and data itself received by opt-out can never be provided to third parties by opt-out."
        }
        (Lang::Ja, "rule_eu_consent_required") => {
            "GDPR 第6条・第7条：EU では第三者提供とターゲティング広告には同意（オプトイン）が必要です。"
        }
        (Lang::En, "rule_eu_consent_required") => {
            "GDPR Arts. 6–7: in the EU, sharing with third parties and targeted advertising need consent (opt-in)."
        }
        (Lang::Ja, "bad_request") => "リクエストの形式が正しくありません。",
        (Lang::En, "bad_request") => "The request is malformed.",
        (Lang::Ja, "cross_site") => "他のサイトからの送信は受け付けていません。",
        (Lang::En, "cross_site") => "Requests from other sites are not accepted.",
        (Lang::Ja, "unavailable") => {
            "ただいま処理できません。しばらくしてからもう一度お試しください。"
        }
        (Lang::En, "unavailable") => "We can't process this right now. Please try again shortly.",
        (Lang::Ja, "sign_in_required") => "ログインしてください。",
        (Lang::En, "sign_in_required") => "Please sign in.",
        (Lang::Ja, "forbidden_role") => "この操作を行う権限がありません。",
        (Lang::En, "forbidden_role") => "Your role does not allow this.",
        (Lang::Ja, "sign_in_failed") => "メールアドレスまたはパスワードが正しくありません。",
        (Lang::En, "sign_in_failed") => "The email address or password is not correct.",
        (Lang::Ja, "totp_required") => "確認コード（認証アプリの 6 桁）を入力してください。",
        (Lang::En, "totp_required") => "Enter the 6-digit code from your authenticator app.",
        (Lang::Ja, "totp_invalid") => "確認コードが正しくないか、すでに使われています。",
        (Lang::En, "totp_invalid") => "The code is not correct or was already used.",
        (Lang::Ja, "totp_enrollment_required") => {
            "二要素認証の登録が必要です。管理者に `doui admin totp` の実行を依頼してください。"
        }
        (Lang::En, "totp_enrollment_required") => {
            "Two-factor sign-in is required. Ask an owner to run `doui admin totp` for your account."
        }
        (Lang::Ja, "acquisition_invalid") => {
            "提供元の名称・住所・代表者、取得の経緯、受け取った項目をすべて入力してください（個人情報保護法 第30条）。"
        }
        (Lang::En, "acquisition_invalid") => {
            "Give the provider's name, address and representative, how they acquired the data, and the data items (APPI Art. 30)."
        }
        (Lang::Ja, "unknown_recipient") => "その提供先は登録されていません。",
        (Lang::En, "unknown_recipient") => "There is no such recipient.",
        (Lang::Ja, "collection_point_invalid") => {
            "収集場所には名称（日本語・英語）、種類、URL または場所、本人に示した文言が必要です（各 500 文字まで、文言は 20,000 文字まで）。"
        }
        (Lang::En, "collection_point_invalid") => {
            "A collection point needs a Japanese and an English name, a kind, a URL or place and the wording shown to the person (500 characters each, the wording up to 20,000)."
        }
        (Lang::Ja, "malformed_collection_point") => {
            "収集場所のキーは英小文字で始まり、英小文字・数字・-・_ の 2〜48 文字にしてください。"
        }
        (Lang::En, "malformed_collection_point") => {
            "A collection point key starts with a lower-case letter and has 2 to 48 lower-case letters, digits, - and _."
        }
        (Lang::Ja, "unknown_collection_point_kind") => {
            "収集場所の種類は web_form、checkout、app、store、call_center、paper、import、api のいずれかです。"
        }
        (Lang::En, "unknown_collection_point_kind") => {
            "The kind must be one of web_form, checkout, app, store, call_center, paper, import, api."
        }
        (Lang::Ja, "collection_point_taken") => "このキーの収集場所はすでに登録されています。",
        (Lang::En, "collection_point_taken") => {
            "A collection point with this key is registered already."
        }
        (Lang::Ja, "unknown_collection_point") => "指定された収集場所は登録されていません。",
        (Lang::En, "unknown_collection_point") => "There is no such collection point.",
        (Lang::Ja, "collection_point_retired") => {
            "この収集場所は廃止済みです。記録として残りますが、新しい同意の記録には使えません。"
        }
        (Lang::En, "collection_point_retired") => {
            "This collection point is retired: it stays as evidence, but names no new consent."
        }
        (Lang::Ja, "evidence_required") => {
            "オプトインの利用目的への同意には、収集場所（collection_point）と通知のバージョン（notice_version）が必要です。特定電子メール法第3条は同意の記録の保存を、GDPR 第7条第1項は同意を証明できることを求めています。"
        }
        (Lang::En, "evidence_required") => {
            "A grant of an opt-in purpose needs its collection point (collection_point) and notice version (notice_version): Japan's Act on Specified Electronic Mail, Art. 3, requires a record of the opt-in, and GDPR Art. 7(1) requires that the consent can be demonstrated."
        }
        (Lang::Ja, "occurred_in_future") => {
            "occurred_at が未来の時刻です（5 分までの時計のずれは許容します）。"
        }
        (Lang::En, "occurred_in_future") => {
            "occurred_at lies in the future (a clock skew of up to 5 minutes is allowed)."
        }
        (Lang::Ja, "older_than_latest_change") => {
            "occurred_at がこの同意の最新の変更より前です。後から届いた古い変更で履歴を書き換えることはできません。"
        }
        (Lang::En, "older_than_latest_change") => {
            "occurred_at is earlier than this consent's latest recorded change: a late arrival does not rewrite history."
        }
        (Lang::Ja, "recipient_invalid") => {
            "提供先には ID（英小文字・数字・-・_）、名称、住所、代表者が必要です。"
        }
        (Lang::En, "recipient_invalid") => {
            "A recipient needs an id (lower-case letters, digits, - and _), a name, an address and a representative."
        }
        (Lang::Ja, "provision_items") => {
            "本人を識別する項目と提供する項目を、それぞれ 1 つ以上指定してください。"
        }
        (Lang::En, "provision_items") => "Give at least one identifying item and one data item.",
        (Lang::Ja, "provision_not_allowed") => {
            "本人が同意していないか、提供の停止を求めています。提供しないでください。"
        }
        (Lang::En, "provision_not_allowed") => {
            "The person has not agreed or has asked to stop: do not provide their data."
        }
        (Lang::Ja, "opt_in_link_invalid") => {
            "この確認リンクは使用済みか、有効期限が切れています。もう一度お申し込みください。"
        }
        (Lang::En, "opt_in_link_invalid") => {
            "This confirmation link was already used or has expired. Please subscribe again."
        }
        (Lang::Ja, "sign_in_link_invalid") => {
            "このログインリンクは使用済みか期限切れです。新しいリンクを請求してください。"
        }
        (Lang::En, "sign_in_link_invalid") => {
            "This sign-in link was already used or has expired. Please ask for a new one."
        }
        (Lang::Ja, "csrf") => {
            "フォームの有効期限が切れたか、Cookie が無効です。ページを再読み込みしてもう一度お試しください。"
        }
        (Lang::En, "csrf") => {
            "This form has expired or cookies are blocked. Reload the page and try again."
        }
        (Lang::Ja, "rate_limited") => {
            "試行回数が多すぎます。しばらく待ってからもう一度お試しください。"
        }
        (Lang::En, "rate_limited") => "Too many attempts. Please wait a while and try again.",
        (Lang::Ja, "chain_walk_running") => {
            "チェーンの検証はすでに実行中です。終わってからもう一度お試しください。"
        }
        (Lang::En, "chain_walk_running") => {
            "A verification of the chain is already running. Try again when it has finished."
        }
        (Lang::Ja, "password_too_short") => "パスワードは 12 文字以上にしてください。",
        (Lang::En, "password_too_short") => "The password must have at least 12 characters.",
        (Lang::Ja, "password_too_long") => "パスワードが長すぎます。",
        (Lang::En, "password_too_long") => "The password is too long.",
        (Lang::Ja, "password_common") => "推測されやすいパスワードです。別のものにしてください。",
        (Lang::En, "password_common") => "This password is too easy to guess. Choose another.",
        (Lang::Ja, "unknown_role") => "役割は viewer、operator、owner のいずれかです。",
        (Lang::En, "unknown_role") => "A role is viewer, operator or owner.",
        (Lang::Ja, "unknown_admin") => "その管理者はいません。",
        (Lang::En, "unknown_admin") => "There is no such admin.",
        (Lang::Ja, "last_owner") => "最後のオーナーは変更・無効化できません。",
        (Lang::En, "last_owner") => "The last owner cannot be demoted or disabled.",
        (Lang::Ja, "reason_required") => "代理で変更する理由を入力してください。",
        (Lang::En, "reason_required") => {
            "Enter the reason for changing this on the person's behalf."
        }
        (Lang::Ja, "unknown_subject_id") => "その対象者はいません。",
        (Lang::En, "unknown_subject_id") => "There is no such subject.",
        _ => server_message(lang, code).unwrap_or(match lang {
            Lang::Ja => "エラーが発生しました。もう一度お試しください。",
            Lang::En => "Something went wrong. Please try again.",
        }),
    }
}

/// Messages only the server gives (owners' settings): kept out of the browser's bundle.
#[cfg(feature = "ssr")]
fn server_message(lang: Lang, code: &str) -> Option<&'static str> {
    Some(match (lang, code) {
        (Lang::Ja, "malformed_notice_version") => {
            "版には英数字と . - _ だけを使い、64 文字以内にしてください。"
        }
        (Lang::En, "malformed_notice_version") => {
            "A version uses letters, digits, '.', '-' and '_' only, at most 64 characters."
        }
        (Lang::Ja, "notice_version_taken") => "その版はすでに公開されています。",
        (Lang::En, "notice_version_taken") => "That version is already published.",
        (Lang::Ja, "notice_text_missing") => "日本語と英語の両方の本文を入力してください。",
        (Lang::En, "notice_text_missing") => "Give the notice's text in both Japanese and English.",
        (Lang::Ja, "notice_text_too_long") => "本文が長すぎます（各言語 100,000 文字まで）。",
        (Lang::En, "notice_text_too_long") => {
            "The text is too long (at most 100,000 characters per language)."
        }
        (Lang::Ja, "notice_summary_too_long") => "変更の概要が長すぎます（2,000 文字まで）。",
        (Lang::En, "notice_summary_too_long") => {
            "The summary of changes is too long (at most 2,000 characters)."
        }
        (Lang::Ja, "notice_summary_missing") => {
            "重要な変更には、日本語と英語で変更の概要を書いてください（本人に示されます）。"
        }
        (Lang::En, "notice_summary_missing") => {
            "A material change needs a summary in Japanese and English: people are shown it."
        }
        (Lang::Ja, "notice_effective_before_latest") => {
            "施行日は、公開済みの最新の版の施行日より前にはできません。"
        }
        (Lang::En, "notice_effective_before_latest") => {
            "A version cannot take effect before the latest published one."
        }
        (Lang::Ja, "notice_material_needs_previous") => {
            "最初の版は重要な変更にできません（比べる前の版がありません）。"
        }
        (Lang::En, "notice_material_needs_previous") => {
            "The first version cannot be a material change: there is nothing to compare it with."
        }
        (Lang::Ja, "bad_effective_at") => {
            "施行日時は 2026-12-01T00:00:00Z の形式で入力してください。"
        }
        (Lang::En, "bad_effective_at") => {
            "Give the effective time as 2026-12-01T00:00:00Z (RFC 3339)."
        }
        (Lang::Ja, "erased_identifier") => {
            "このメールアドレスまたは電話番号の方は、ご本人の求めにより消去済みです。登録できません（ご本人が自ら申し込む場合を除く）。"
        }
        (Lang::En, "erased_identifier") => {
            "This email address or phone number belongs to a person erased at their request: it cannot be added again (unless they sign up themselves)."
        }
        (Lang::Ja, "purpose_validity_days") => {
            "同意の有効期間は 1〜3650 日で指定してください（空欄は撤回まで）。"
        }
        (Lang::En, "purpose_validity_days") => {
            "A consent's validity is 1 to 3650 days (empty: until withdrawn)."
        }
        (Lang::Ja, "erase_unconfirmed") => "消去してよいことを確認するチェックを入れてください。",
        (Lang::En, "erase_unconfirmed") => "Tick the box to confirm the erasure.",
        (Lang::Ja, "already_erased") => "この対象者はすでに消去されています。",
        (Lang::En, "already_erased") => "This subject is already erased.",
        (Lang::Ja, "method_not_allowed") => {
            "このアドレスはその種類のリクエストを受け付けていません（Allow ヘッダーをご覧ください）。"
        }
        (Lang::En, "method_not_allowed") => {
            "This address does not take that kind of request (see the Allow header)."
        }
        (Lang::Ja, "nothing_to_reconfirm") => "再確認が必要な同意はありません。",
        (Lang::En, "nothing_to_reconfirm") => "Nothing here needs re-confirming.",
        (Lang::Ja, "not_permitted") => {
            "この方には、この利用目的・連絡手段で連絡できません（理由は reason をご覧ください）。"
        }
        (Lang::En, "not_permitted") => {
            "This person may not be contacted for this purpose on this channel (see reason)."
        }
        (Lang::Ja, "too_many_permissions") => "一度に確認できるのは 10,000 件までです。",
        (Lang::En, "too_many_permissions") => "At most 10,000 checks can be asked at once.",
        (Lang::Ja, "malformed_cursor") => {
            "cursor の値が正しくありません。前の応答の値をそのまま渡してください。"
        }
        (Lang::En, "malformed_cursor") => {
            "The cursor is not valid: pass the value of the previous answer as it is."
        }
        (Lang::Ja, "not_acceptable") => {
            "この形式では応答できません（JSON か CSV を指定してください）。"
        }
        (Lang::En, "not_acceptable") => "No answer in that format (ask for JSON or CSV).",
        (Lang::Ja, "unknown_lang") => "言語は ja か en で指定してください。",
        (Lang::En, "unknown_lang") => "The language must be ja or en.",
        (Lang::Ja, "empty_batch") => "変更が一つもありません。",
        (Lang::En, "empty_batch") => "The request carries no change.",
        (Lang::Ja, "batch_too_large") => "一度に送れる変更は 1,000 件までです。",
        (Lang::En, "batch_too_large") => "A request carries at most 1,000 changes.",
        (Lang::Ja, "batch_refused") => {
            "受け付けられない変更があるため、この一括の変更はどれも記録していません（errors をご覧ください）。"
        }
        (Lang::En, "batch_refused") => {
            "Some changes were refused, so none of this batch was recorded (see errors)."
        }
        (Lang::Ja, "malformed_occurred_at") => {
            "occurred_at は RFC 3339 の時刻（例: 2026-12-01T09:00:00+09:00）で指定してください。"
        }
        (Lang::En, "malformed_occurred_at") => {
            "occurred_at must be an RFC 3339 time (e.g. 2026-12-01T09:00:00+09:00)."
        }
        (Lang::Ja, "malformed_proof_ref") => "proof_ref は 500 文字までの 1 行です。",
        (Lang::En, "malformed_proof_ref") => "proof_ref is one line of at most 500 characters.",
        (Lang::Ja, "malformed_form_url") => {
            "form_url は http(s) の URL（2,048 文字まで）で指定してください。"
        }
        (Lang::En, "malformed_form_url") => {
            "form_url must be an http(s) URL of at most 2,048 characters."
        }
        (Lang::Ja, "malformed_message_id") => {
            "受信した SMS の MessageSid がないか、形式が正しくありません（英数字 64 文字まで）。"
        }
        (Lang::En, "malformed_message_id") => {
            "The inbound text message has no MessageSid, or it is malformed (at most 64 letters and digits)."
        }
        (Lang::Ja, "bad_signature") => {
            "リクエストの署名（X-Twilio-Signature）がないか、一致しません。"
        }
        (Lang::En, "bad_signature") => {
            "The request's signature (X-Twilio-Signature) is missing or does not match."
        }
        (Lang::Ja, "malformed_ip") => "ip は IPv4 か IPv6 のアドレスで指定してください。",
        (Lang::En, "malformed_ip") => "ip must be an IPv4 or IPv6 address.",
        (Lang::Ja, "malformed_user_agent") => "user_agent は 2,000 文字までです。",
        (Lang::En, "malformed_user_agent") => "user_agent is at most 2,000 characters.",
        _ => return super::imports::import_message(lang, code),
    })
}

#[cfg(not(feature = "ssr"))]
fn server_message(_lang: Lang, _code: &str) -> Option<&'static str> {
    None
}
