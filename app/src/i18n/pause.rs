//! Texts of pauses and frequencies (issue 34 items 2 and 3): their refusal codes, the sections of
//! the person's page, and the offer after an unsubscribe.

use crate::domain::Lang;

/// The message for a pause or frequency code, or `None` when the code is not one of theirs.
pub fn pause_message(lang: Lang, code: &str) -> Option<&'static str> {
    Some(match (lang, code) {
        (Lang::Ja, "unknown_pause_length") => {
            "一時停止の期間は 30 日、60 日、90 日のいずれかです。"
        }
        (Lang::En, "unknown_pause_length") => "A pause lasts 30, 60 or 90 days.",
        (Lang::Ja, "nothing_to_pause") => {
            "一時停止できる配信がありません（選んだ配信はすでに停止しています）。"
        }
        (Lang::En, "nothing_to_pause") => {
            "There is nothing to pause: what you chose is already turned off."
        }
        (Lang::Ja, "not_paused") => "この配信は一時停止していません。",
        (Lang::En, "not_paused") => "This is not paused.",
        (Lang::Ja, "unknown_frequency") => {
            "受け取る頻度は every（毎回）、weekly（週 1 回のまとめ）、monthly（月 1 回のまとめ）のいずれかです。"
        }
        (Lang::En, "unknown_frequency") => {
            "A frequency is every (every message), weekly (a weekly digest) or monthly (a monthly digest)."
        }
        (Lang::Ja, "unknown_pause_outcome") => "一時停止の終わり方が不明です。",
        (Lang::En, "unknown_pause_outcome") => "Unknown end of a pause.",
        _ => return None,
    })
}

/// The words of the pause and frequency sections.
pub struct PauseTexts {
    pub pause_title: &'static str,
    pub pause_intro: &'static str,
    pub pause_what: &'static str,
    pub all_marketing: &'static str,
    pub pause_length: &'static str,
    /// "{n} days" for 30, 60, 90.
    pub days: [&'static str; 3],
    pub pause_button: &'static str,
    pub paused_title: &'static str,
    pub paused_until: &'static str,
    pub resume_button: &'static str,
    pub frequency_title: &'static str,
    pub frequency_intro: &'static str,
    /// Every message, weekly digest, monthly digest (the order of `Frequency::ALL`).
    pub frequencies: [&'static str; 3],
    pub frequency_button: &'static str,
    /// After an unsubscribe: the offer to pause instead.
    pub offer_title: &'static str,
    pub offer_intro: &'static str,
    pub offer_button: &'static str,
    pub offer_done_title: &'static str,
    pub offer_done: &'static str,
    pub open_preferences: &'static str,
}

static JA: PauseTexts = PauseTexts {
    pause_title: "しばらく休む",
    pause_intro: "配信停止の代わりに、一定の期間だけ止めることができます。期間が終わると自動的に元に戻ります（その前に設定を変えた場合は、その設定が優先されます）。",
    pause_what: "止めるもの",
    all_marketing: "すべての広告・宣伝",
    pause_length: "期間",
    days: ["30 日", "60 日", "90 日"],
    pause_button: "一時停止する",
    paused_title: "一時停止中",
    paused_until: "再開予定",
    resume_button: "今すぐ再開する",
    frequency_title: "受け取る頻度",
    frequency_intro: "利用目的ごとに、どのくらいの頻度で受け取りたいかを選べます。送信者はこの希望を参照できます。",
    frequencies: ["毎回受け取る", "週 1 回のまとめ", "月 1 回のまとめ"],
    frequency_button: "頻度を保存",
    offer_title: "配信停止ではなく、しばらく休みますか？",
    offer_intro: "期間を選ぶと、その期間が終わったときに今回停止した配信が自動的に再開します。選ばなければ、配信停止のままです。",
    offer_button: "この期間だけ休む",
    offer_done_title: "一時停止にしました",
    offer_done: "期間が終わると配信が再開します。再開予定：",
    open_preferences: "配信設定を開く",
};

static EN: PauseTexts = PauseTexts {
    pause_title: "Take a break",
    pause_intro: "Instead of unsubscribing, you can pause for a while. At the end it turns back on by itself (unless you change it before: your later choice wins).",
    pause_what: "What to pause",
    all_marketing: "All marketing",
    pause_length: "For",
    days: ["30 days", "60 days", "90 days"],
    pause_button: "Pause",
    paused_title: "Paused",
    paused_until: "Until",
    resume_button: "Resume now",
    frequency_title: "How often",
    frequency_intro: "For each purpose, choose how often you want to hear from us. Senders can see your choice.",
    frequencies: ["Every message", "Weekly digest", "Monthly digest"],
    frequency_button: "Save how often",
    offer_title: "Rather take a break than leave?",
    offer_intro: "Choose a length and what you just unsubscribed from turns back on by itself at its end. If you choose nothing, you stay unsubscribed.",
    offer_button: "Pause for this long instead",
    offer_done_title: "Paused",
    offer_done: "It turns back on by itself at the end. Until:",
    open_preferences: "Open my preferences",
};

pub fn pause_texts(lang: Lang) -> &'static PauseTexts {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}
