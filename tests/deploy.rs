//! The examples in `deploy/` for an hourly run: parsed and checked for what
//! makes them safe (no overlapping runs, time to finish a commit after
//! SIGTERM, secrets from a Secret, the config the binary reads).

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[test]
fn kubernetes_cronjob_is_hourly_exclusive_and_gets_its_secret_from_a_secret() {
    use serde::Deserialize;
    let text = read("deploy/kubernetes/cronjob.yaml");
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde_yaml::Value::deserialize(d).unwrap())
        .collect();
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    let sa = kind("ServiceAccount");
    let config = kind("ConfigMap");
    let cron = kind("CronJob");
    assert_eq!(cron["apiVersion"], "batch/v1");
    for d in &docs {
        assert!(d["apiVersion"].is_string() && d["metadata"]["name"].is_string());
    }

    let spec = &cron["spec"];
    let schedule: Vec<&str> = spec["schedule"].as_str().unwrap().split(' ').collect();
    assert_eq!(schedule.len(), 5);
    assert!(
        schedule[0].parse::<u8>().is_ok_and(|m| m < 60),
        "a fixed minute"
    );
    assert_eq!(&schedule[1..], ["*", "*", "*", "*"], "every hour");
    assert_eq!(spec["concurrencyPolicy"], "Forbid");

    let pod = &spec["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], sa["metadata"]["name"]);
    assert!(matches!(
        pod["restartPolicy"].as_str(),
        Some("Never" | "OnFailure")
    ));
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        grace >= 60,
        "time to finish a commit after SIGTERM: {grace}"
    );

    let containers = pod["containers"].as_sequence().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let args: Vec<&str> = c["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "sync");
    let config_path = args[args.iter().position(|a| *a == "--config").unwrap() + 1];
    // The config file is the ConfigMap's key, mounted where args say.
    let mount = c["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| config_path.starts_with(m["mountPath"].as_str().unwrap()))
        .expect("the config path is mounted");
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    assert_eq!(volume["configMap"]["name"], config["metadata"]["name"]);
    let key = Path::new(config_path)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert!(config["data"][key].is_string(), "ConfigMap has {key}");

    // The password comes from a Secret, never from the manifest.
    let env = c["env"].as_sequence().unwrap();
    let pw = env.iter().find(|e| e["name"] == "PGPASSWORD").unwrap();
    assert!(pw["value"].is_null());
    assert!(pw["valueFrom"]["secretKeyRef"]["name"].is_string());
    assert!(
        !text.to_lowercase().contains("password: "),
        "no literal password"
    );
}

#[test]
fn systemd_units_and_crontab_run_one_sync_an_hour() {
    let service = read("deploy/systemd/cloudtab.service");
    let timer = read("deploy/systemd/cloudtab.timer");
    let keys = |unit: &str| -> Vec<(String, String)> {
        unit.lines()
            .filter(|l| !l.starts_with('#') && l.contains('='))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    };
    let get = |unit: &str, k: &str| {
        keys(unit)
            .into_iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    assert_eq!(get(&service, "Type"), "oneshot");
    assert!(get(&service, "ExecStart").contains(" sync --config "));
    assert_eq!(get(&service, "KillSignal"), "SIGTERM");
    let stop: u64 = get(&service, "TimeoutStopSec").parse().unwrap();
    assert!(stop >= 60);
    assert_eq!(get(&timer, "OnCalendar"), "hourly");
    assert_eq!(get(&timer, "Persistent"), "true");
    assert!(timer.contains("[Install]") && timer.contains("WantedBy=timers.target"));

    let cron = read("deploy/cron/cloudtab.crontab");
    let lines: Vec<&str> = cron
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1);
    let fields: Vec<&str> = lines[0].split_whitespace().collect();
    assert!(fields[0].parse::<u8>().is_ok() && fields[1..5] == ["*", "*", "*", "*"]);
    assert_eq!(fields[5], "flock", "no overlapping runs");
    assert!(lines[0].contains("cloudtab sync --config"));
}
