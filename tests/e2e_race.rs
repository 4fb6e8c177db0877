//! Eight approvers' processes race to approve one run whose quorum is one: the run executes once, one
//! write reaches F&O, every other process is refused saying why, and the chain holds — on each backend.

use crate::e2e_support;

use e2e_support::{Site, backends, new_vendor, terms_run, text};
use serde_json::Value;
use signoff::model::{RunId, RunStatus};

const RACERS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_approvers_racing_on_one_run_execute_it_exactly_once() {
    for db in backends("e2e_race::eight_approvers_racing_on_one_run_execute_it_exactly_once") {
        let site = Site::start(db, |_| {}).await;
        let backend = site.name();
        let keys = new_vendor(&site.h, "RACE-0001");
        site.import(&[terms_run(&site.h, "RUN-RACE-1", &keys, 1)]).await;
        site.h.sim.clear_requests();

        // Eight processes, eight eligible approvers, started together on the one run.
        let approvers: Vec<String> = (1..=RACERS).map(|n| format!("approver{n}@contoso.com")).collect();
        let commands: Vec<_> = approvers
            .iter()
            .map(|a| {
                site.command(a, &["--json", "approve", "RUN-RACE-1", "--reason", "Terms agreed with the supplier"])
            })
            .collect();
        let outputs = tokio::task::spawn_blocking(move || {
            let children: Vec<_> = commands
                .into_iter()
                .map(|mut c| {
                    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
                })
                .collect();
            children.into_iter().map(|c| c.wait_with_output().unwrap()).collect::<Vec<_>>()
        })
        .await
        .unwrap();

        let outcomes: Vec<(String, Option<i32>, Value)> = approvers
            .iter()
            .zip(&outputs)
            .map(|(a, out)| {
                let json = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("{backend}: {a}: no JSON outcome ({e}): {}", text(out)));
                (a.clone(), out.status.code(), json)
            })
            .collect();
        let winners: Vec<_> = outcomes.iter().filter(|(_, _, o)| o["outcome"] == "executed").collect();
        assert_eq!(winners.len(), 1, "{backend}: exactly one process executed the run: {outcomes:#?}");
        let winner = &winners[0].0;
        assert_eq!(winners[0].1, Some(0), "{backend}: {outcomes:#?}");
        for (approver, code, outcome) in outcomes.iter().filter(|(a, _, _)| a != winner) {
            assert_eq!(*code, Some(4), "{backend}: {approver} is refused: {outcome}");
            assert_eq!(outcome["outcome"], "refused", "{backend}: {approver}: {outcome}");
            // Refused because the winner holds the run (named), or because it is already executing or executed.
            let reason = outcome["reason"].as_str().unwrap_or_default();
            let says_why = approvers.iter().any(|a| reason.contains(&format!("{a} (pid")))
                || reason.contains("executed")
                || reason.contains("executing");
            let all: Vec<String> = outputs.iter().map(text).collect();
            assert!(
                says_why,
                "{backend}: {approver}'s refusal names the holder or the run's status: {reason}\n{all:#?}"
            );
        }

        // F&O saw one write; the record carries it.
        let writes = site.writes_to("RACE-0001");
        assert_eq!(writes.len(), 1, "{backend}: one write in the simulator's log: {writes:#?}");
        assert_eq!(writes[0].method, "PATCH");
        assert_eq!(site.h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net30");

        // The store agrees: executed once, by the winner, one approval; every refusal is on the record.
        let id = RunId::from("RUN-RACE-1");
        let stored = site.store().get(&id).unwrap().unwrap();
        assert_eq!(stored.status, RunStatus::Executed, "{backend}");
        let into_executing = stored.history.iter().filter(|h| h.to == RunStatus::Executing).count();
        assert_eq!(into_executing, 1, "{backend}: {:?}", stored.history);
        let approvals: Vec<&str> = stored.approvals.iter().map(|a| a.approver.as_str()).collect();
        assert_eq!(approvals, [winner.as_str()], "{backend}");
        let events = site.store().audit_events(&id).unwrap();
        for approver in approvers.iter().filter(|a| *a != winner) {
            let refused = events.iter().filter(|e| e.kind == "decision.refused" && &e.actor == approver).count();
            assert_eq!(refused, 1, "{backend}: {approver}'s refusal is one audit event");
        }
        assert!(site.store().lease(&id).unwrap().is_none(), "{backend}: no lease left behind");
        site.assert_chain_verified().await;
    }
}
