#!/usr/bin/env bash
# What the tests need from the system, from Debian when apt can be used: chromium for the
# browser journeys, a CJK font so that the report's charts can be labelled in Chinese.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ! ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1; then
  missing+=(fonts-noto-cjk)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "缺少 ${missing[*]},且本机没有 apt-get:浏览器测试将被跳过(CI 中会失败),报告图表不带中文标注。" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "缺少 ${missing[*]},且无权使用 apt-get 安装:浏览器测试将被跳过(CI 中会失败)。" >&2
  exit 0
fi
echo "== 安装 Debian 的 ${missing[*]}(测试需要)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
