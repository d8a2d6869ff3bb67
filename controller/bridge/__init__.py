"""The controller side of MQTT: publishing playlists/commands and ingesting reports."""
