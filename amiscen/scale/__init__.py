"""Scale-out on Locust (the optional extra ``amiscen[scale]``): each Locust user is one meter."""
