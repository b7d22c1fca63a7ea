#!/usr/bin/env bash
# Replays the upload events the trigger could not handle. S3 invokes the trigger asynchronously;
# after three failed attempts Lambda puts the event, wrapped in its on-failure record, in the
# queue substation-<stage>-trigger-failures. Each message body is sent to the trigger as it is
# (the trigger unwraps the S3 event); an upload whose run did start is recognised as a duplicate,
# so replaying twice is harmless. A message is deleted only once the trigger accepted it; one
# that still fails stays in the queue (hidden for 5 minutes, so this run does not loop on it).
#
#   cdk/scripts/replay-dropped-uploads.sh <stage> [--dry-run]
#
# --dry-run lists the queued events and makes them visible again at once. Needs the AWS CLI v2
# and credentials for the stage's account and region. Exit 0: every message replayed; 1: some
# still fail; 2: usage.
set -euo pipefail

stage=${1:-}
mode=${2:-}
if [ -z "$stage" ] || { [ -n "$mode" ] && [ "$mode" != --dry-run ]; }; then
  echo "usage: $0 <stage> [--dry-run]" >&2
  exit 2
fi
queue_url=$(aws sqs get-queue-url --queue-name "substation-${stage}-trigger-failures" --query QueueUrl --output text)
function_name="substation-${stage}-trigger"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

replayed=0
failed=0
listed=()
while :; do
  aws sqs receive-message --queue-url "$queue_url" --max-number-of-messages 10 \
    --visibility-timeout 300 --wait-time-seconds 1 \
    --query 'Messages[].[ReceiptHandle, Body]' --output text >"$work/batch" </dev/null
  if [ ! -s "$work/batch" ] || [ "$(head -c 4 "$work/batch")" = None ]; then
    break
  fi
  # One message per line: the receipt handle, a tab, the body (compact JSON: no raw tab or newline).
  while IFS=$'\t' read -r handle body; do
    printf '%s' "$body" >"$work/event.json"
    if [ "$mode" = --dry-run ]; then
      echo "would replay: $(head -c 300 "$work/event.json")"
      listed+=("$handle")
      continue
    fi
    if error=$(aws lambda invoke --function-name "$function_name" --cli-binary-format raw-in-base64-out \
      --payload "fileb://$work/event.json" --query FunctionError --output text "$work/response.json" </dev/null) &&
      [ "$error" = None ]; then
      aws sqs delete-message --queue-url "$queue_url" --receipt-handle "$handle" </dev/null
      replayed=$((replayed + 1))
      echo "replayed: $(cat "$work/response.json")"
    else
      failed=$((failed + 1))
      echo "still failing (${error:-the invocation failed}): $(cat "$work/response.json" 2>/dev/null)" >&2
    fi
  done <"$work/batch"
done

if [ "$mode" = --dry-run ]; then
  for handle in "${listed[@]+"${listed[@]}"}"; do
    aws sqs change-message-visibility --queue-url "$queue_url" --receipt-handle "$handle" \
      --visibility-timeout 0 </dev/null
  done
  echo "${#listed[@]} queued (left in the queue, visible again)"
  exit 0
fi
echo "$replayed replayed, $failed still failing (left in the queue)"
[ "$failed" -eq 0 ]
