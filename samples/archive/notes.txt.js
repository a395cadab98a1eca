WScript.Echo("mugai sample: this would run");
