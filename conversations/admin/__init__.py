"""The owner and staff chat: the command table and one module per area of the business."""
