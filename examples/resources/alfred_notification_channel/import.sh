# A notification channel is imported by its full name...
terraform import alfred_notification_channel.oncall_mail projects/alfred-prod/notificationChannels/1234567890123456789

# ...or by project/id. sensitive_labels cannot be read back (the API masks them): the next apply writes the
# configured secrets.
terraform import alfred_notification_channel.oncall_mail alfred-prod/1234567890123456789
