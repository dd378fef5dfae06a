"""hedgevault.deployment"""
