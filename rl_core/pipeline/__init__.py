"""The daily retraining job, one function per Airflow task (dags/forecourt_daily_retrain.py).

plan_run -> delivery_files (sensor) -> validate_delivery -> calibrate_market ->
per agent: plan_trials -> run_trial (mapped) -> pick_best -> register_best ->
evaluate_challenger -> promote_or_keep -> deploy_champion (to SageMaker, when
FORECOURT_SAGEMAKER is set); then write_tomorrows_prices -> write_run_report.

Every step takes and returns small JSON values (Airflow XComs) and writes what it did to
the run's folder, <FORECOURT_HOME>/runs/<day>/<run id>/, so the report can be written
even when the run stopped half way. No Airflow import anywhere in here.
"""
