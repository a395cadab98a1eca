@echo off
echo mugai sample
