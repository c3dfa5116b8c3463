"""Local emulation of the AWS pieces the deployed system relies on (here: the DynamoDB-stream
event source mappings of template.yaml), so one command runs the whole pipeline offline."""
