#!/bin/sh
# Forecourt on Amazon MWAA: the environment's startup script (uploaded to the dags bucket
# as startup.sh by Terraform, pinned by its S3 object version). MWAA sources it on every
# component (scheduler, DAG processor, workers, triggerer, web server) before it installs
# requirements.txt and starts Airflow; what it exports reaches the Airflow processes.
#
# 1. Settings. Terraform passes Forecourt's settings as Airflow configuration options
#    forecourt.<name>, which MWAA sets as AIRFLOW__FORECOURT__<NAME>; rl_core reads
#    FORECOURT_<NAME>. The DAG file copies them across when a task parses it, but the web
#    server's Forecourt page never imports the DAG, so copy them here, once, for every
#    component. A FORECOURT_* that is already set wins (setdefault semantics, as in the DAG).
# 2. MLflow telemetry off (no usage pings from the registry client; the VPC may have no
#    internet anyway).
# 3. FORECOURT_HOME: local scratch only on AWS (the store, the run folders, the registry and
#    the metrics live in S3, MLflow and CloudWatch); /tmp is writable on every component.
# No `set -e`: MWAA sources this script, and an exit would stop the component.

for _fc_name in $(env | sed -n 's/^AIRFLOW__FORECOURT__\([A-Z0-9_]*\)=.*/\1/p'); do
    if eval "[ -z \"\${FORECOURT_${_fc_name}+set}\" ]"; then
        eval "export FORECOURT_${_fc_name}=\"\${AIRFLOW__FORECOURT__${_fc_name}}\""
    fi
done
unset _fc_name

export MLFLOW_DISABLE_TELEMETRY="${MLFLOW_DISABLE_TELEMETRY:-true}"
export DO_NOT_TRACK="${DO_NOT_TRACK:-true}"
export FORECOURT_HOME="${FORECOURT_HOME:-/tmp/forecourt}"

# A missing setting shows in the component's log at start, not as a task failing later.
for _fc_name in STORE RUNS RUNNER MLFLOW_TRACKING_URI ENV; do
    if eval "[ -z \"\${FORECOURT_${_fc_name}:-}\" ]"; then
        echo "forecourt startup.sh: FORECOURT_${_fc_name} is not set (Airflow option forecourt.$(echo "${_fc_name}" | tr 'A-Z' 'a-z') missing: see terraform/modules/mwaa)" >&2
    fi
done
unset _fc_name
echo "forecourt startup.sh (${MWAA_AIRFLOW_COMPONENT:-component}): runner=${FORECOURT_RUNNER:-?} store=${FORECOURT_STORE:-?} runs=${FORECOURT_RUNS:-?}"
