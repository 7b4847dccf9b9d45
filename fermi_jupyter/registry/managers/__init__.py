"""Business logic: each manager takes a session and an identity; handlers stay thin."""
