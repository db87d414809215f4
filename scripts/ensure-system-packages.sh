#!/usr/bin/env bash
# Browser tests drive Debian's chromium; install it when it is absent and apt can be used.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "未找到 chromium,且本机没有 apt-get:浏览器测试将被跳过(CI 中会失败)。" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "未找到 chromium,且无权使用 apt-get 安装:浏览器测试将被跳过(CI 中会失败)。" >&2
  exit 0
fi
echo "== 安装 Debian 的 chromium(浏览器测试需要)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
