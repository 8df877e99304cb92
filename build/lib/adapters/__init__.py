"""Platform adapters (Discord, Telegram, console) that turn chat events into calls on the core."""
