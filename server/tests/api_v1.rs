//! The senders' API: keys, links and headers, suppressions, errors, and the OpenAPI document
//! kept true against live answers. Requirement numbers as in ../shared/REQUIREMENTS.md.

mod common;

use app::domain::{Channel, Lang};
use common::{
    consents::grant,
    server::{TestServer, servers},
};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

async fn key(s: &TestServer, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|x| x.to_string()).collect();
    s.services
        .create_api_key("test sender", &scopes)
        .await
        .unwrap()
        .1
}

async fn links(s: &TestServer, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = s
        .client
        .post(format!("{}/api/v1/links", s.base))
        .json(&body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

async fn suppressions(s: &TestServer, key: &str, query: &str) -> reqwest::Response {
    s.client
        .get(format!("{}/api/v1/suppressions?{query}", s.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r01_r02_r11_links_give_ready_headers_that_unsubscribe_with_one_click() {
    for s in servers().await {
        s.subject("api@example.jp", Lang::Ja).await;
        grant(&s.services, "api@example.jp", "newsletter", Channel::Email).await;
        let k = key(&s, &["links"]).await;
        let res = links(&s, Some(&k), json!({"subject": "api@example.jp", "purpose": "newsletter", "channel": "email", "campaign": "c1"})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        let h = &body["headers"];
        let lu = h["List-Unsubscribe"].as_str().unwrap();
        assert!(
            lu.starts_with('<') && lu.ends_with('>') && lu.matches("://").count() == 1,
            "R1: {lu}"
        );
        assert_eq!(
            h["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click",
            "R2"
        );
        assert_eq!(
            h["List-Id"], "\"Newsletter and marketing messages\" <newsletter.doui.test>",
            "R11"
        );
        assert!(
            body["footer"]["ja"]
                .as_str()
                .unwrap()
                .contains("配信を停止")
        );
        let url = body["unsubscribe_url"].as_str().unwrap();
        let token = url.rsplit_once("/u/").unwrap().1;
        let click = s.one_click(token).await;
        assert_eq!(click.status(), StatusCode::OK);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_required_scoped_and_revocable() {
    for s in servers().await {
        s.subject("k@example.com", Lang::En).await;
        let body = json!({"subject": "k@example.com"});
        let missing = links(&s, None, body.clone()).await;
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(missing.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let k = key(&s, &["suppressions"]).await;
        let forged = format!("{}x", &k[..k.len() - 1]);
        assert_eq!(
            links(&s, Some(&forged), body.clone()).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let wrong_scope = links(&s, Some(&k), body.clone()).await;
        assert_eq!(wrong_scope.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            wrong_scope.json::<Value>().await.unwrap()["code"],
            "forbidden_scope"
        );
        let id = k.split('.').nth(1).unwrap();
        assert!(
            s.services
                .store
                .revoke_api_key(id, app::services::now())
                .await
                .unwrap()
        );
        let revoked = suppressions(&s, &k, "purpose=newsletter&channel=email").await;
        assert_eq!(
            revoked.status(),
            StatusCode::UNAUTHORIZED,
            "a revoked key stops at once"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_with_a_stable_code_in_the_callers_language() {
    for s in servers().await {
        s.subject("e@example.com", Lang::En).await;
        let k = key(&s, &["links", "suppressions"]).await;
        let cases = [
            (
                json!({"subject": "nobody@example.com"}),
                404,
                "unknown_subject_key",
            ),
            (
                json!({"subject": "e@example.com", "purpose": "astrology"}),
                400,
                "unknown_purpose",
            ),
            (
                json!({"subject": "e@example.com", "purpose": "ad_targeting", "channel": "postal"}),
                422,
                "channel_not_applicable",
            ),
            (
                json!({"subject": "e@example.com", "campaign": "no spaces!"}),
                400,
                "malformed_campaign",
            ),
            (json!({"who": "e@example.com"}), 400, "bad_request"),
        ];
        for (body, status, code) in cases {
            let res = s
                .client
                .post(format!("{}/api/v1/links", s.base))
                .bearer_auth(&k)
                .header(header::ACCEPT_LANGUAGE, "ja")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), status, "{code}");
            let e: Value = res.json().await.unwrap();
            assert_eq!(e["code"], code);
            assert!(
                !e["message"].as_str().unwrap().is_ascii(),
                "a Japanese message: {e}"
            );
        }
        let bad = suppressions(&s, &k, "purpose=newsletter").await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r10_suppressions_page_by_cursor_through_the_api() {
    for s in servers().await {
        let (who, pref) = s.subject("sup@example.com", Lang::En).await;
        let form = [
            ("token", pref.as_str()),
            ("purpose", "newsletter"),
            ("channel", "email"),
            ("state", "withdrawn"),
        ];
        assert_eq!(s.call("set_consent", &form).await.status(), StatusCode::OK);
        // Listed once sealed (commit order), a fraction of a second later.
        common::seal_all(&s.services).await;
        let k = key(&s, &["suppressions"]).await;
        let page: Value = suppressions(&s, &k, "purpose=newsletter&channel=email")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert_eq!(page["items"][0]["email"], "sup@example.com");
        let next = page["next_cursor"].as_i64().unwrap();
        let empty: Value = suppressions(
            &s,
            &k,
            &format!("purpose=newsletter&channel=email&since={next}"),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(empty["items"].as_array().unwrap().len(), 0);
        assert_eq!(empty["next_cursor"], next);
        let _ = who;
        s.stop().await;
    }
}

/// The property names of a schema in the document (following `$ref`).
fn properties(doc: &Value, schema: &str) -> Vec<String> {
    let mut names: Vec<String> = doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn keys(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_what_the_api_answers() {
    let s = TestServer::start(common::sqlite().await).await;
    let doc: Value = s
        .client
        .get(format!("{}/api/v1/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "OpenAPI 3.1"
    );
    for path in [
        "/api/v1/links",
        "/api/v1/suppressions",
        "/api/v1/provisions",
        "/api/v1/permissions",
        "/api/v1/audience",
        "/api/v1/subjects",
        "/api/v1/subjects/{external_id}",
        "/api/v1/consents",
        "/api/v1/events",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );

    s.subject("doc@example.com", Lang::En).await;
    grant(&s.services, "doc@example.com", "newsletter", Channel::Email).await;
    let k = key(&s, &["links", "suppressions", "audience:read"]).await;
    let answer: Value = links(&s, Some(&k), json!({"subject": "doc@example.com"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys(&answer), properties(&doc, "LinksResponse"));
    assert_eq!(
        keys(&answer["headers"]),
        properties(&doc, "MailHeadersJson")
    );
    assert_eq!(keys(&answer["footer"]), properties(&doc, "Footer"));
    let list: Value = suppressions(&s, &k, "purpose=newsletter&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys(&list), properties(&doc, "SuppressionList"));
    for item in list["lapsed"].as_array().unwrap() {
        assert_eq!(keys(item), properties(&doc, "LapsedItem"));
    }
    let checked: Value = s
        .client
        .post(format!("{}/api/v1/permissions", s.base))
        .bearer_auth(&k)
        .json(&json!({"checks": [
            {"subject": "doc@example.com", "purpose": "newsletter", "channel": "email"},
            {"subject": "nobody", "purpose": "newsletter", "channel": "sms"},
        ]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys(&checked), properties(&doc, "PermissionsAnswer"));
    for result in checked["results"].as_array().unwrap() {
        assert_eq!(keys(result), properties(&doc, "PermissionResult"));
    }
    assert_eq!(checked["results"][1]["reason"], "unknown_subject");
    let reasons = doc["components"]["schemas"]["Reason"]["enum"].clone();
    let reasons: Vec<&str> = reasons
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for r in app::domain::Refused::ALL {
        assert!(reasons.contains(&r.key()), "{r} is in the document");
    }
    assert_eq!(reasons.len(), app::domain::Refused::ALL.len());
    let channels = &doc["components"]["schemas"]["ChannelKey"]["enum"];
    assert_eq!(channels.as_array().unwrap().len(), Channel::ALL.len());
    let page: Value = s
        .client
        .get(format!(
            "{}/api/v1/audience?purpose=newsletter&channel=email",
            s.base
        ))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys(&page), properties(&doc, "AudiencePageJson"));
    assert_eq!(keys(&page["items"][0]), properties(&doc, "AudienceMember"));
    common::seal_all(&s.services).await;
    let reader = key(&s, &["events:read"]).await;
    let feed: Value = s
        .client
        .get(format!("{}/api/v1/events?limit=10", s.base))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys(&feed), properties(&doc, "EventPage"));
    assert_eq!(keys(&feed["items"][0]), properties(&doc, "EventItem"));
    let event_params = params_of(&doc, "/api/v1/events");
    for name in ["since", "limit", "wait", "purpose", "channel", "source"] {
        assert!(
            event_params.contains(&name.to_owned()),
            "{name} is documented"
        );
    }
    s.subject("never@example.com", Lang::En).await;
    let refused: Value = links(
        &s,
        Some(&k),
        json!({"subject": "never@example.com", "purpose": "newsletter", "channel": "email"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(keys(&refused), properties(&doc, "NotPermittedJson"));
    let error: Value = links(&s, None, json!({})).await.json().await.unwrap();
    assert_eq!(keys(&error), properties(&doc, "ErrorJson"));
    let request_fields = properties(&doc, "LinksRequest");
    assert_eq!(
        request_fields,
        ["campaign", "channel", "purpose", "subject"]
    );

    // Issue 31: what the schema allows, the API accepts. An empty channel or campaign was
    // schema-valid and refused; now the schema says what is taken.
    let params = |path: &str, method: &str| -> Vec<Value> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .clone()
    };
    let param = |list: &[Value], name: &str| -> Value {
        list.iter().find(|p| p["name"] == name).unwrap()["schema"].clone()
    };
    let resolve = |schema: &Value| -> Value {
        let reference = schema["$ref"]
            .as_str()
            .or_else(|| {
                schema["oneOf"]
                    .as_array()
                    .and_then(|a| a.iter().find_map(|x| x["$ref"].as_str()))
            })
            .unwrap_or_else(|| panic!("an enum reference: {schema}"));
        let name = reference.rsplit('/').next().unwrap();
        doc["components"]["schemas"][name].clone()
    };
    let channels = json!(["email", "sms", "push", "postal", "phone", "web"]);
    let suppressions_params = params("/api/v1/suppressions", "get");
    assert_eq!(
        resolve(&param(&suppressions_params, "channel"))["enum"],
        channels
    );
    let csv_params = params("/api/v1/links.csv", "post");
    assert_eq!(resolve(&param(&csv_params, "channel"))["enum"], channels);
    let campaign = param(&csv_params, "campaign");
    assert_eq!(campaign["minLength"], 1, "{campaign}");
    assert!(campaign["pattern"].is_string(), "{campaign}");
    let link_campaign = &doc["components"]["schemas"]["LinksRequest"]["properties"]["campaign"];
    assert_eq!(link_campaign["minLength"], 1, "{link_campaign}");
    let change = &doc["components"]["schemas"]["ConsentChangeJson"]["properties"];
    assert_eq!(resolve(&change["channel"])["enum"], channels);
    assert_eq!(
        resolve(&change["state"])["enum"],
        json!(["granted", "withdrawn"])
    );
    // An empty campaign, refused, as the schema says.
    let res = links(
        &s,
        Some(&k),
        json!({"subject": "doc@example.com", "campaign": ""}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The new answers have the documented fields.
    let writer = key(&s, &["subjects:read", "subjects:write", "consents:write"]).await;
    let post = |path: &'static str, body: Value| {
        let (client, base, writer) = (s.client.clone(), s.base.clone(), writer.clone());
        async move {
            let res = client
                .post(format!("{base}{path}"))
                .bearer_auth(writer)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (status, subject) = post("/api/v1/subjects", json!({"external_id": "DOC-1"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(keys(&subject), properties(&doc, "SubjectJson"));
    let read: Value = s
        .client
        .get(format!("{}/api/v1/subjects/DOC-1", s.base))
        .bearer_auth(&writer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys(&read), properties(&doc, "SubjectWithConsents"));
    assert_eq!(keys(&read["consents"][0]), properties(&doc, "ConsentJson"));
    let withdrawal = json!({"subject": "DOC-1", "purpose": "newsletter", "channel": "email",
        "state": "withdrawn", "occurred_at": "2026-01-01T00:00:00Z"});
    let (status, written) = post("/api/v1/consents", withdrawal).await;
    assert_eq!(status, StatusCode::OK, "{written}");
    assert_eq!(keys(&written), properties(&doc, "ConsentsResponse"));
    assert_eq!(
        keys(&written["results"][0]),
        properties(&doc, "ConsentResultJson")
    );
    let refused = json!({"subject": "DOC-1", "purpose": "newsletter", "channel": "email",
        "state": "granted", "occurred_at": "2026-01-01T00:00:00Z"});
    let (status, batch_error) = post("/api/v1/consents", refused).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(keys(&batch_error), properties(&doc, "BatchErrorJson"));
    assert_eq!(
        keys(&batch_error["errors"][0]),
        properties(&doc, "ItemErrorJson")
    );
    // Every status answered here is one the document describes for its operation.
    let documented = |path: &str, method: &str, status: u16| {
        doc["paths"][path][method]["responses"][status.to_string()].is_object()
    };
    assert!(documented("/api/v1/subjects", "post", 201));
    assert!(documented("/api/v1/subjects", "post", 200));
    assert!(documented("/api/v1/consents", "post", 422));
    assert!(documented("/api/v1/consents", "post", 413));
    assert!(documented("/api/v1/consents", "post", 409));
    for method in ["get", "patch", "delete"] {
        assert!(documented("/api/v1/subjects/{external_id}", method, 404));
    }

    // Issue 32: webhook endpoints.
    for path in [
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/rotate",
        "/api/v1/webhooks/{id}/deliveries",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let hooks = key(&s, &["webhooks:write"]).await;
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let (client, base, hooks) = (s.client.clone(), s.base.clone(), hooks.clone());
        async move {
            let mut req = client
                .request(method, format!("{base}{path}"))
                .bearer_auth(hooks);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, made) = send(
        reqwest::Method::POST,
        "/api/v1/webhooks".into(),
        Some(json!({"url": "https://93.184.216.34/hook", "purposes": ["newsletter"]})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert!(documented("/api/v1/webhooks", "post", 201));
    assert_eq!(keys(&made), properties(&doc, "NewWebhookJson"));
    assert_eq!(keys(&made["webhook"]), properties(&doc, "WebhookJson"));
    let id = made["webhook"]["id"].as_str().unwrap().to_owned();
    let (status, list) = send(reqwest::Method::GET, "/api/v1/webhooks".into(), None).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&list[0]), properties(&doc, "WebhookJson"));
    let (status, rotated) = send(
        reqwest::Method::POST,
        format!("/api/v1/webhooks/{id}/rotate"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(keys(&rotated), properties(&doc, "SecretJson"));
    let (status, changed) = send(
        reqwest::Method::PATCH,
        format!("/api/v1/webhooks/{id}"),
        Some(json!({"state": "disabled", "description": "off"})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(keys(&changed), properties(&doc, "WebhookJson"));
    assert_eq!(changed["state"], "disabled");
    let (status, log) = send(
        reqwest::Method::GET,
        format!("/api/v1/webhooks/{id}/deliveries"),
        None,
    )
    .await;
    assert_eq!((status, log), (200, json!([])));
    let (status, error) = send(
        reqwest::Method::POST,
        "/api/v1/webhooks".into(),
        Some(json!({"url": "https://169.254.169.254/"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(documented("/api/v1/webhooks", "post", 400));
    assert_eq!(error["code"], "webhook_address_forbidden");
    for method in ["get", "patch", "delete"] {
        assert!(documented("/api/v1/webhooks/{id}", method, 404));
    }
    let (status, _) = send(
        reqwest::Method::DELETE,
        format!("/api/v1/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(documented("/api/v1/webhooks/{id}", "delete", 204));
    s.stop().await;
}

async fn links_csv(s: &TestServer, key: &str, query: &str, csv: String) -> reqwest::Response {
    s.client
        .post(format!("{}/api/v1/links.csv?{query}", s.base))
        .bearer_auth(key)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_links_stream_a_csv_in_order_with_unknown_recipients_marked() {
    for s in servers().await {
        s.services
            .create_subject(Some("C-1"), Some("one@example.jp"), None, Lang::Ja)
            .await
            .unwrap();
        s.services
            .create_subject(Some("C-2"), Some("two@example.jp"), None, Lang::Ja)
            .await
            .unwrap();
        grant(&s.services, "C-1", "newsletter", Channel::Email).await;
        grant(&s.services, "C-2", "newsletter", Channel::Email).await;
        let k = key(&s, &["links"]).await;
        // 1,500 recipients: more than one batch; emails match whatever the domain's case.
        let mut csv = String::from("subject\n");
        for i in 0..500 {
            csv.push_str(&format!("C-1\r\n\"two@EXAMPLE.jp\"\nnobody-{i}\n"));
        }
        let res = links_csv(
            &s,
            &k,
            "purpose=newsletter&channel=email&campaign=bulk-1",
            csv,
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let text = res.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "subject,unsubscribe_url,preference_url,list_unsubscribe,list_unsubscribe_post,list_id,error,reason"
        );
        assert_eq!(lines.len(), 1 + 1500, "one answer per recipient");
        for (i, line) in lines[1..].iter().enumerate() {
            let fields: Vec<&str> = line.splitn(8, ',').collect();
            match i % 3 {
                0 | 1 => {
                    assert!(fields[1].contains("/u/1.k1."), "{line}");
                    assert_eq!(fields[3], format!("<{}>", fields[1]));
                    assert_eq!(fields[4], "List-Unsubscribe=One-Click");
                    assert_eq!(fields[6], "", "no error: {line}");
                    assert_eq!(fields[7], "", "no reason: {line}");
                }
                _ => assert!(line.ends_with(",,,,,,unknown_subject_key,"), "{line}"),
            }
        }
        // A link from the bulk answer unsubscribes, with the campaign recorded.
        let url = lines[1].split(',').nth(1).unwrap();
        let token = url.rsplit_once("/u/").unwrap().1;
        let click = s.one_click(token).await;
        assert_eq!(click.status(), StatusCode::OK);
        let who = s
            .services
            .store
            .find_subject("C-1")
            .await
            .unwrap()
            .unwrap()
            .id;
        let event = &s.services.store.events_for_subject(who, 1).await.unwrap()[0];
        assert_eq!(event.provenance.campaign.as_deref(), Some("bulk-1"));

        let refused = links_csv(
            &s,
            &k,
            "purpose=ad_targeting&channel=postal",
            "C-1\n".into(),
        )
        .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let no_scope = key(&s, &["suppressions"]).await;
        assert_eq!(
            links_csv(&s, &no_scope, "", "C-1\n".into()).await.status(),
            StatusCode::FORBIDDEN
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item06_an_unbounded_links_csv_line_is_answered_line_too_long() {
    for s in servers().await {
        s.services
            .create_subject(Some("C-1"), Some("one@example.jp"), None, Lang::Ja)
            .await
            .unwrap();
        grant(&s.services, "C-1", "newsletter", Channel::Email).await;
        let k = key(&s, &["links"]).await;
        // Lines of 3 MiB and 5 KB (arriving over many chunks), then one that ends the body
        // with no newline; the recipients around them are answered as usual.
        let huge = "C-1".repeat(1024 * 1024);
        let long = format!("\"C-1\",{}", "x".repeat(5000));
        let near = format!("C-1,{}", "y".repeat(::server::api_v1::MAX_LINE - 8));
        let csv = format!("{huge}\nC-1\r\n{long}\n{near}\r\nnobody\n{huge}");
        let res = links_csv(&s, &k, "purpose=newsletter&channel=email", csv).await;
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(
            lines.len(),
            6,
            "one answer per line: {:?}",
            &text[..text.len().min(500)]
        );
        assert_eq!(lines[0], ",,,,,,line_too_long,");
        assert!(
            lines[1].starts_with("C-1,") && lines[1].ends_with(",,"),
            "{}",
            lines[1]
        );
        assert_eq!(lines[2], ",,,,,,line_too_long,");
        assert!(
            lines[3].starts_with("C-1,") && lines[3].ends_with(",,"),
            "a line within the cap"
        );
        assert_eq!(lines[4], "nobody,,,,,,unknown_subject_key,");
        assert_eq!(lines[5], ",,,,,,line_too_long,");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r01_r02_r09_r11_a_mail_parser_reads_the_headers_and_footer_as_sent() {
    let s = TestServer::start(common::sqlite().await).await;
    s.subject("mime@example.jp", Lang::Ja).await;
    grant(&s.services, "mime@example.jp", "newsletter", Channel::Email).await;
    let k = key(&s, &["links"]).await;
    let answer: Value = links(
        &s,
        Some(&k),
        json!({"subject": "mime@example.jp", "purpose": "newsletter", "channel": "email"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let h = &answer["headers"];
    let message = format!(
        "From: news@example.jp\r\nTo: mime@example.jp\r\nSubject: News\r\nList-Unsubscribe: {}\r\n\
         List-Unsubscribe-Post: {}\r\nList-Id: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
        h["List-Unsubscribe"].as_str().unwrap(),
        h["List-Unsubscribe-Post"].as_str().unwrap(),
        h["List-Id"].as_str().unwrap(),
        answer["footer"]["ja"].as_str().unwrap(),
    );
    let parsed = mailparse::parse_mail(message.as_bytes()).unwrap();
    let headers = parsed.get_headers();
    use mailparse::MailHeaderMap;
    let unsubscribe = headers.get_first_value("List-Unsubscribe").unwrap();
    let uris: Vec<&str> = unsubscribe.split(',').map(str::trim).collect();
    assert_eq!(uris.len(), 1, "R1: exactly one URI");
    assert!(uris[0].starts_with("<http") && uris[0].ends_with('>'));
    assert_eq!(
        headers.get_first_value("List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click",
        "R2"
    );
    let list_id = headers.get_first_value("List-Id").unwrap();
    assert!(
        list_id.ends_with("<newsletter.doui.test>"),
        "R11: {list_id}"
    );
    let body = parsed.get_body().unwrap();
    assert!(
        body.contains(&uris[0][1..uris[0].len() - 1]),
        "R9: the link is in the body too"
    );
    s.stop().await;
}

/// Hardening 17: `links.csv` echoes each recipient back, and recipients are the sender's text:
/// nothing in the answer can be read as a spreadsheet formula.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardening_17_links_csv_never_answers_a_spreadsheet_formula() {
    for s in servers().await {
        s.services
            .create_subject(Some("=1+2"), Some("formula@example.jp"), None, Lang::En)
            .await
            .unwrap();
        grant(&s.services, "=1+2", "newsletter", Channel::Email).await;
        let k = key(&s, &["links"]).await;
        let csv = "=1+2\n+cmd|' /C calc'!A0\n@SUM(A1)\n".to_owned();
        let res = links_csv(&s, &k, "purpose=newsletter&channel=email", csv).await;
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("'=1+2,"), "{text}");
        assert!(
            lines[0].contains("/u/1.k1."),
            "the subject is found: {text}"
        );
        assert!(lines[1].starts_with("'+cmd|' /C calc'!A0,"), "{text}");
        assert!(lines[1].ends_with("unknown_subject_key,"));
        assert!(lines[2].starts_with("'@SUM(A1),"), "{text}");
        s.stop().await;
    }
}

/// The names of a GET path's documented parameters.
fn params_of(doc: &Value, path: &str) -> Vec<String> {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}
